"""Name and phone material for the demo roster: plausible, not real people."""
from __future__ import annotations

import random

# Weights roughly follow the share of each surname in China (per mille), so a roster
# looks like one: many 王, 李, 张, a few rare ones and the odd compound surname.
SURNAMES: dict[str, float] = {
    "王": 71, "李": 70, "张": 67, "刘": 54, "陈": 45, "杨": 31, "黄": 22, "赵": 21, "吴": 20,
    "周": 19, "徐": 16, "孙": 15, "马": 14, "朱": 13, "胡": 12, "郭": 11, "何": 11, "高": 10,
    "林": 10, "罗": 9, "郑": 9, "梁": 8, "谢": 7, "宋": 7, "唐": 7, "许": 6, "韩": 6, "冯": 6,
    "邓": 6, "曹": 6, "彭": 5, "曾": 5, "肖": 5, "田": 5, "董": 5, "袁": 5, "潘": 4, "于": 4,
    "蒋": 4, "蔡": 4, "余": 4, "杜": 4, "叶": 4, "程": 4, "苏": 4, "魏": 4, "吕": 4, "丁": 4,
    "任": 3, "沈": 3, "姚": 3, "卢": 3, "姜": 3, "崔": 3, "钟": 3, "谭": 3, "陆": 3, "汪": 3,
    "范": 3, "金": 3, "石": 3, "廖": 3, "贾": 3, "夏": 3, "付": 2, "方": 2, "白": 2, "邹": 2,
    "孟": 2, "熊": 2, "秦": 2, "邱": 2, "江": 2, "尹": 2, "薛": 2, "闫": 2, "段": 2, "雷": 2,
    "侯": 2, "龙": 2, "史": 2, "陶": 2, "贺": 2, "顾": 2, "毛": 2, "郝": 2, "龚": 2, "邵": 2,
    "万": 1, "钱": 1, "严": 1, "武": 1, "戴": 1, "孔": 1, "常": 1, "牛": 1, "申": 1, "靳": 1,
    "欧阳": 0.5, "司马": 0.2, "上官": 0.2,
}

MALE_GIVEN = list(
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清"
    "飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
)
FEMALE_GIVEN = list(
    "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
)

# Mobile number prefixes of the three carriers (and a few virtual operators' ranges).
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147",
    "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "176", "177",
    "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191",
    "198", "199",
]
# Hebi (淇水 is the Qi river there): landlines are 0392 + 7 digits.
LANDLINE_AREA = "0392"

_SURNAME_KEYS = list(SURNAMES)
_SURNAME_WEIGHTS = list(SURNAMES.values())


def person(rng: random.Random, *, female: bool | None = None, surname: str | None = None) -> tuple[str, bool]:
    """A full name and whether it is a woman's: 王建国, 李娜, 欧阳晓雯."""
    if female is None:
        female = rng.random() < 0.5
    if surname is None:
        surname = rng.choices(_SURNAME_KEYS, _SURNAME_WEIGHTS)[0]
    pool = FEMALE_GIVEN if female else MALE_GIVEN
    # About a third of given names are a single character.
    length = 1 if rng.random() < 0.35 else 2
    return surname + "".join(rng.choice(pool) for _ in range(length)), female


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random) -> str:
    return LANDLINE_AREA + str(rng.randrange(2, 10)) + f"{rng.randrange(10**6):06d}"


def as_typed(rng: random.Random, digits: str) -> str:
    """How the number might appear in a roster cell: spaces, dashes, +86."""
    if digits.startswith("0"):
        return f"{digits[:4]}-{digits[4:]}"
    style = rng.random()
    if style < 0.6:
        return digits
    if style < 0.8:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style < 0.9:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return f"+86 {digits}"
