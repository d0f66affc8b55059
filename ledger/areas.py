"""The county-level areas of Shiyan. Each enterprise belongs to exactly one, and
the county half of its awards is owed by that area's treasury."""

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

CITY = "city"
COUNTY = "county"
PAYERS = (CITY, COUNTY)
