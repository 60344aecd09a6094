"""Paper that leaves the desk: every printable document (PDF, Chinese) is drawn here.

`page.render` lays out one document kind's story on A4 or A5 with the office's letterhead, page
numbers, and who printed it when; `parts` holds the pieces kinds are made of (styled paragraphs,
tables that run onto more pages, signature lines, a stamp box). One embedded font family,
Noto Sans SC, draws every glyph, so a PDF prints the same on a PC without Chinese fonts.
"""
