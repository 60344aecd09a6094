"""Checks that a text is wholly in one form of the characters, without trusting the converter alone."""
from __future__ import annotations

import re

import opencc

from app.domain.registry.script import Script

# (simplified, traditional) pairs of the characters the app's sentences use. Only characters
# that belong to one form alone: 于 (a surname), 系, 里, 干 are good traditional too. 后 is as well
# (皇后), but no sentence of ours means that: in traditional it is a mistake like 「10天后」 (天后).
PAIRS = [(pair[0], pair[1]) for pair in re.findall("..", (
    "后後"
    "单單处處请請讲講报報们們将將维維员員门門电電话話畅暢约約时時间間内內达達见見对對师師现現楼樓联聯马馬给給确確么麼"
    "别別业業号號码碼认認无無误誤诉訴问問缴繳纳納据據为為经經办辦务務户戶厅廳卫衛东東会會区區项項预預账賬补補废廢银銀"
    "宝寶转轉凭憑证證额額计計类類态態审審归歸档檔开開动動状狀盘盤过過库庫称稱备備节節国國庆慶写寫带帶发發头頭龙龍坏壞"
    "灯燈锁鎖这這说說谢謝还還应應该該让讓术術质質费費复復满滿钟鐘点點边邊侧側厕廁访訪财財签簽录錄输輸错錯级級"
    "询詢严嚴总總监監连連续續败敗张張赵趙陈陳刘劉"
))]
SIMPLIFIED_ONLY = {s for s, _ in PAIRS}
TRADITIONAL_ONLY = {t for _, t in PAIRS}
CHECK = {Script.simplified: opencc.OpenCC("t2s"), Script.traditional: opencc.OpenCC("s2tw")}


def assert_one_script(text: str, script: Script | str) -> None:
    """Fails naming the characters of the other form that `text` holds."""
    script = Script(script)
    other = TRADITIONAL_ONLY if script is Script.simplified else SIMPLIFIED_ONLY
    assert sorted({ch for ch in text if ch in other}) == [], f"{script.value} text mixes: {text}"
    assert CHECK[script].convert(text) == text, f"{script.value} text mixes: {text}"
