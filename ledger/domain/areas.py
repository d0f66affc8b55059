"""The county-level areas of Shiyan. Each enterprise belongs to exactly one, and
the county half of its awards is owed by that area's treasury."""

from enum import StrEnum

AREAS = (
    "茅箭区",
    "张湾区",
    "郧阳区",
    "丹江口市",
    "郧西县",
    "竹山县",
    "竹溪县",
    "房县",
    "十堰经济技术开发区",
    "武当山旅游经济特区",
)

class Payer(StrEnum):
    """Who owes a half of an award; the stored value is the string."""

    CITY = "city"  # 市级财政
    COUNTY = "county"  # the treasury of the enterprise's county-level area


CITY = Payer.CITY
COUNTY = Payer.COUNTY
PAYERS = tuple(Payer)
