"""IEEE 802.11u venue info: the group/type table (IEEE Std 802.11-2020 Table 9-65/9-66, as hostapd
documents it), names in Japanese and English, and our site categories mapped onto it.

Venue names and URLs are what a phone shows before it joins; hostapd wants ``venue_name=LANG:text``
with an ISO 639-2 code (``jpn``, ``eng``) and ``venue_url=N:URL`` where N is the 1-based venue name
it belongs to. We only emit https URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: (group, type) -> (English, Japanese). Reserved codes are absent; a lookup of one is an error.
VENUE_TYPES: dict[tuple[int, int], tuple[str, str]] = {
    (0, 0): ("Unspecified", "未指定"),
    (1, 0): ("Unspecified Assembly", "集会施設（未指定）"), (1, 1): ("Arena", "アリーナ"),
    (1, 2): ("Stadium", "スタジアム"), (1, 3): ("Passenger Terminal", "旅客ターミナル"),
    (1, 4): ("Amphitheater", "円形劇場"), (1, 5): ("Amusement Park", "遊園地"),
    (1, 6): ("Place of Worship", "礼拝所"), (1, 7): ("Convention Center", "会議場"),
    (1, 8): ("Library", "図書館"), (1, 9): ("Museum", "博物館"), (1, 10): ("Restaurant", "レストラン"),
    (1, 11): ("Theater", "劇場"), (1, 12): ("Bar", "バー"), (1, 13): ("Coffee Shop", "喫茶店"),
    (1, 14): ("Zoo or Aquarium", "動物園・水族館"), (1, 15): ("Emergency Coordination Center", "緊急対策拠点"),
    (2, 0): ("Unspecified Business", "事業所（未指定）"), (2, 1): ("Doctor or Dentist office", "診療所・歯科"),
    (2, 2): ("Bank", "銀行"), (2, 3): ("Fire Station", "消防署"), (2, 4): ("Police Station", "警察署"),
    (2, 6): ("Post Office", "郵便局"), (2, 7): ("Professional Office", "事務所"),
    (2, 8): ("Research and Development Facility", "研究開発施設"), (2, 9): ("Attorney Office", "法律事務所"),
    (3, 0): ("Unspecified Educational", "教育施設（未指定）"), (3, 1): ("School, Primary", "小学校"),
    (3, 2): ("School, Secondary", "中学校・高等学校"), (3, 3): ("University or College", "大学"),
    (4, 0): ("Unspecified Factory and Industrial", "工場・産業施設（未指定）"), (4, 1): ("Factory", "工場"),
    (5, 0): ("Unspecified Institutional", "施設（未指定）"), (5, 1): ("Hospital", "病院"),
    (5, 2): ("Long-Term Care Facility", "介護施設"),
    (5, 3): ("Alcohol and Drug Re-habilitation Center", "依存症リハビリ施設"), (5, 4): ("Group Home", "グループホーム"),
    (5, 5): ("Prison or Jail", "刑事施設"),
    (6, 0): ("Unspecified Mercantile", "商業施設（未指定）"), (6, 1): ("Retail Store", "小売店"),
    (6, 2): ("Grocery Market", "食料品店"), (6, 3): ("Automotive Service Station", "自動車整備工場"),
    (6, 4): ("Shopping Mall", "ショッピングモール"), (6, 5): ("Gas Station", "ガソリンスタンド"),
    (7, 0): ("Unspecified Residential", "住居（未指定）"), (7, 1): ("Private Residence", "個人住宅"),
    (7, 2): ("Hotel or Motel", "ホテル・旅館"), (7, 3): ("Dormitory", "寮"), (7, 4): ("Boarding House", "下宿"),
    (8, 0): ("Unspecified Storage", "倉庫（未指定）"),
    (9, 0): ("Unspecified Utility and Miscellaneous", "公益・その他（未指定）"),
    (10, 0): ("Unspecified Vehicular", "乗り物（未指定）"), (10, 1): ("Automobile or Truck", "自動車・トラック"),
    (10, 2): ("Airplane", "航空機"), (10, 3): ("Bus", "バス"), (10, 4): ("Ferry", "フェリー"),
    (10, 5): ("Ship or Boat", "船舶"), (10, 6): ("Train", "列車"), (10, 7): ("Motor Bike", "オートバイ"),
    (11, 0): ("Unspecified Outdoor", "屋外（未指定）"), (11, 1): ("Muni-mesh Network", "自治体メッシュ網"),
    (11, 2): ("City Park", "公園"), (11, 3): ("Rest Area", "休憩所"), (11, 4): ("Traffic Control", "交通管制"),
    (11, 5): ("Bus Stop", "バス停"), (11, 6): ("Kiosk", "キオスク・電話ボックス"),
}

VENUE_GROUPS: dict[int, tuple[str, str]] = {
    0: ("Unspecified", "未指定"), 1: ("Assembly", "集会"), 2: ("Business", "業務"), 3: ("Educational", "教育"),
    4: ("Factory and Industrial", "工場・産業"), 5: ("Institutional", "施設"), 6: ("Mercantile", "商業"),
    7: ("Residential", "住居"), 8: ("Storage", "倉庫"), 9: ("Utility and Miscellaneous", "公益・その他"),
    10: ("Vehicular", "乗り物"), 11: ("Outdoor", "屋外"),
}


class VenueError(ValueError):
    pass


class SiteCategory(StrEnum):
    """What kind of place a site is, in the registry's words."""

    CITY_FACILITY = "city-facility"  # a facility of the metropolitan government (office, hall)
    MUNICIPAL_FACILITY = "municipal-facility"  # a ward, city, town or village building
    PHONE_BOOTH = "phone-booth"
    PARK = "park"
    STATION_AREA = "station-area"
    SHELTER = "shelter"  # a designated evacuation shelter (often a school gymnasium)
    LIBRARY = "library"
    MUSEUM = "museum"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    BUS_STOP = "bus-stop"
    TOURIST_INFORMATION = "tourist-information"
    STREET = "street"  # outdoor coverage along a street (a municipal mesh)
    OTHER = "other"


#: Category -> (venue group, venue type). Government buildings are "Business" in 802.11u (beside fire
#: and police stations); a phone booth is an outdoor kiosk; a shelter is where people assemble.
CATEGORY_VENUES: dict[SiteCategory, tuple[int, int]] = {
    SiteCategory.CITY_FACILITY: (2, 0), SiteCategory.MUNICIPAL_FACILITY: (2, 0),
    SiteCategory.PHONE_BOOTH: (11, 6), SiteCategory.PARK: (11, 2), SiteCategory.STATION_AREA: (1, 3),
    SiteCategory.SHELTER: (1, 0), SiteCategory.LIBRARY: (1, 8), SiteCategory.MUSEUM: (1, 9),
    SiteCategory.SCHOOL: (3, 0), SiteCategory.HOSPITAL: (5, 1), SiteCategory.BUS_STOP: (11, 5),
    SiteCategory.TOURIST_INFORMATION: (2, 0), SiteCategory.STREET: (11, 1), SiteCategory.OTHER: (0, 0),
}


@dataclass(frozen=True, slots=True)
class Venue:
    group: int
    type: int

    def __post_init__(self) -> None:
        if (self.group, self.type) not in VENUE_TYPES:
            raise VenueError(f"venue group {self.group} type {self.type} is not in the IEEE 802.11u table")

    @property
    def name_en(self) -> str:
        return VENUE_TYPES[(self.group, self.type)][0]

    @property
    def name_ja(self) -> str:
        return VENUE_TYPES[(self.group, self.type)][1]


def venue_for(category: SiteCategory) -> Venue:
    group, type_ = CATEGORY_VENUES[category]
    return Venue(group, type_)


def venue_known(group: int, type_: int) -> bool:
    return (group, type_) in VENUE_TYPES
