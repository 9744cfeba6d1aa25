"""The question categories residents see, in the order the bureau reports them."""

CATEGORIES: dict[str, str] = {
    "neighbor": "邻里纠纷",
    "property": "物业纠纷",
    "marriage_family": "婚姻家庭",
    "labor": "劳动争议",
    "traffic": "交通事故",
    "housing": "房产纠纷",
    "contract": "合同纠纷",
    "debt": "借贷债务",
    "inheritance": "继承纠纷",
    "consumer": "消费维权",
    "other": "其他",
}


def category_name(code: str) -> str:
    """Chinese display name of a category code (the code itself when unknown)."""
    return CATEGORIES.get(code, code)
