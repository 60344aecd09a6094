"""GET /problems and GET /problems/{name}: where every problem `type` URI leads.

A problem's `type` is the relative URI /problems/<name>; RFC 9457 lets it resolve to a page for
people, so a receptionist (or an integrator) who follows it reads what the problem means and
which operations answer it. Public: a problem answer is read before anyone signs in.
"""
from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from app.api.errors import PROBLEM, language_headers
from app.api.language import Language, chinese, negotiate
from app.api.problem_catalogue import ProblemType, ProblemTypeNotFound, catalogue, operations_answering

router = APIRouter(tags=["problems"])


class ProblemTypeRead(BaseModel):
    type: str
    name: str
    status: int
    title: str
    title_zh: str
    description: str
    # module.Class of each domain error answering under this type (none for the handler's own)
    classes: list[str]
    # METHOD /path of each operation that declares it; `answered_by` when it is not declared one by one
    operations: list[str]
    answered_by: str


def _operations(request: Request) -> dict[str, list[str]]:
    table = getattr(request.app.state, "problem_operations", None)
    if table is None:
        table = request.app.state.problem_operations = operations_answering(request.app.openapi())
    return table


def _read(problem: ProblemType, operations: dict[str, list[str]]) -> ProblemTypeRead:
    return ProblemTypeRead(
        type=problem.type, name=problem.name, status=problem.status, title=problem.title, title_zh=problem.title_zh,
        description=problem.description, classes=[v.origin for v in problem.variants if v.origin != "app.api.errors"],
        operations=operations.get(problem.name, []), answered_by=problem.answered_by)


@router.get("/problems")
async def list_problem_types(request: Request) -> list[ProblemTypeRead]:
    """Every problem type the API answers with, in name order: its status, English and Chinese titles, what it
    means, and the operations that declare it. The same list is published as docs/problems.md."""
    operations = _operations(request)
    return [_read(p, operations) for p in catalogue().values()]


Name = Annotated[str, Path(max_length=100, description="The last part of a problem's `type`, e.g. receipt-already-voided")]


# The schema by reference: with a `model`, FastAPI would file it under the route's text/html.
_PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}


@router.get("/problems/{name}", response_class=HTMLResponse, responses={
    404: {"content": _PROBLEM_CONTENT, "description": "ProblemTypeNotFound"},
    422: {"content": _PROBLEM_CONTENT, "description": "The name is longer than any problem's"},
})
async def problem_page(request: Request, name: Name) -> HTMLResponse:
    """A page for people describing one problem type, in the language of Accept-Language (English by default)."""
    problem = catalogue().get(name)
    if problem is None:
        raise ProblemTypeNotFound(f"/problems/{name} names no problem type; GET /problems lists them")
    language = negotiate(request.headers.get("accept-language"))
    return HTMLResponse(render(problem, _operations(request).get(problem.name, []), language), headers=language_headers(language))


_WORDS = {
    Language.english: {"status": "Status", "type": "Type", "title_en": "Title (English)", "title_zh": "Title (Chinese)",
                       "meaning": "What it means", "answered": "Answered by", "classes": "Raised as", "all": "All problem types"},
    Language.simplified: {"status": "状态码", "type": "类型", "title_en": "英文标题", "title_zh": "中文标题",
                          "meaning": "说明", "answered": "可能返回此问题的接口", "classes": "对应的错误类", "all": "全部问题类型"},
}


def render(problem: ProblemType, operations: list[str], language: Language) -> str:
    words = _WORDS[Language.english if language is Language.english else Language.simplified]
    if language is not Language.english:
        words = {k: chinese(v, language) for k, v in words.items()}
    heading = problem.title if language is Language.english else chinese(problem.title_zh, language)
    answered = [*operations, *([problem.answered_by] if problem.answered_by else [])]
    rows = [(words["type"], f"<code>{escape(problem.type)}</code>"), (words["status"], str(problem.status)),
            (words["title_en"], escape(problem.title)), (words["title_zh"], escape(chinese(problem.title_zh, language)))]
    parts = [
        "<!DOCTYPE html>", f'<html lang="{language.value}">', '<head><meta charset="utf-8">',
        f"<title>{escape(heading)} — PropDesk</title></head>", "<body>", f"<h1>{escape(heading)}</h1>",
        "<dl>", *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows), "</dl>",
    ]
    variants = [v for v in problem.variants if v.origin != "app.api.errors"]
    if problem.description:
        parts += [f"<h2>{words['meaning']}</h2>", *(f"<p>{escape(p)}</p>" for p in problem.description.split("\n\n"))]
    if len(variants) > 1 or (variants and language is Language.english):
        parts += [f"<h2>{words['classes']}</h2>", "<ul>", *(
            f"<li><code>{escape(v.origin)}</code>: {escape(v.title)} / {escape(chinese(v.title_zh, language))}</li>"
            for v in variants), "</ul>"]
    if answered:
        parts += [f"<h2>{words['answered']}</h2>", "<ul>", *(f"<li><code>{escape(o)}</code></li>" for o in answered), "</ul>"]
    parts += [f'<p><a href="/problems">{words["all"]}</a></p>', "</body>", "</html>"]
    return "\n".join(parts)
