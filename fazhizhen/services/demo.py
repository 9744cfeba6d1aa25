"""Demo data: three districts of a Wuhan-like city, lawyers on rosters, pools, and a week of questions."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from fazhizhen.models.requests import CommunityIn, DistrictIn, DutyIn, LawyerIn, PoolIn, StreetIn
from fazhizhen.repo import auth as auth_repo
from fazhizhen.repo import demo as demo_repo
from fazhizhen.services import admin, routing
from fazhizhen.services.auth import create_or_reset_bureau
from fazhizhen.services.passwords import hash_password
from fazhizhen.services.workers import load_demo_workers

DEMO_PASSWORD = "fazhizhen-demo-2026"
BUREAU_USER = "admin"

CITY = {
    "江岸区": {"大智街道": ["球场社区", "三阳社区"], "永清街道": ["永清社区", "天主堂社区"]},
    "江汉区": {"民族街道": ["营北社区", "楚宝社区"], "满春街道": ["泰宁社区", "六渡桥社区"]},
    "武昌区": {"中华路街道": ["西城壕社区", "解放路社区"], "积玉桥街道": ["和平社区", "月亮湾社区"]},
}
LAWYERS = [
    ("张明", "湖北楚天律师事务所", ["neighbor", "property"]),
    ("李芳", "武汉江城律师事务所", ["marriage_family", "inheritance"]),
    ("王强", "湖北大成律师事务所", ["labor", "contract"]),
    ("刘洋", "武汉长江律师事务所", ["traffic", "consumer"]),
    ("陈静", "湖北楚天律师事务所", ["housing", "property"]),
    ("杨帆", "武汉江城律师事务所", ["debt", "contract"]),
    ("赵磊", "湖北大成律师事务所", ["neighbor", "marriage_family"]),
    ("黄丽", "武汉长江律师事务所", ["labor", "debt"]),
    ("周杰", "湖北楚天律师事务所", ["inheritance", "housing"]),
    ("吴敏", "武汉江城律师事务所", ["consumer", "traffic"]),
    ("徐涛", "湖北大成律师事务所", ["property", "neighbor"]),
    ("孙悦", "武汉长江律师事务所", ["marriage_family", "labor"]),
]
SAMPLES = {
    "neighbor": "楼上邻居每天半夜拖椅子、小孩跑跳，沟通多次没用，我能起诉他们吗？",
    "property": "物业一直不修小区电梯，还要涨物业费，我们业主可以拒交物业费吗？",
    "marriage_family": "结婚八年，老公长期冷暴力，想离婚，孩子抚养权怎么争取？",
    "labor": "公司拖欠三个月工资，还不签劳动合同，我该怎么维权？",
    "traffic": "电动车被汽车刮倒，对方只愿意赔医药费，误工费能要吗？",
    "housing": "买的二手房过户后发现漏水严重，卖家隐瞒了，能退房吗？",
    "contract": "装修公司收了定金不开工，合同里写的违约金能要回来吗？",
    "debt": "朋友借了我五万块钱写了借条，现在拖着不还，怎么起诉？",
    "inheritance": "父亲去世没留遗嘱，房子在他名下，兄妹几个怎么分？",
    "consumer": "网上买的手机是翻新机，商家不肯退，能要求三倍赔偿吗？",
    "other": "户口迁移需要哪些材料？派出所说我材料不全。",
}
# the published mix: neighbour, property and marriage/family lead
MIX = {
    "neighbor": 22,
    "property": 20,
    "marriage_family": 17,
    "labor": 9,
    "traffic": 6,
    "housing": 6,
    "contract": 5,
    "debt": 6,
    "inheritance": 4,
    "consumer": 3,
    "other": 2,
}


async def load_demo(conn: asyncpg.Connection, settings: Any, *, days: int = 7, per_day: int = 30, seed: int = 7) -> str:
    """Load the demo city once; a second run changes nothing."""
    if await demo_repo.loaded(conn, next(iter(CITY))):
        return "demo data already loaded"
    rng = random.Random(seed)
    await create_or_reset_bureau(conn, BUREAU_USER, DEMO_PASSWORD)
    async with conn.transaction():
        communities: list[tuple[int, int]] = []  # (community_id, district_id)
        district_ids = []
        for dname, streets in CITY.items():
            d = await admin.create_district(conn, DistrictIn(name=dname))
            district_ids.append(d["id"])
            for sname, comms in streets.items():
                s = await admin.create_street(conn, StreetIn(district_id=d["id"], name=sname))
                for cname in comms:
                    c = await admin.create_community(conn, CommunityIn(street_id=s["id"], name=cname))
                    communities.append((c["id"], d["id"]))
        lawyer_ids = []
        demo_hash = await hash_password(DEMO_PASSWORD)
        for i, (name, firm, spec) in enumerate(LAWYERS, start=1):
            lw = await admin.create_lawyer(
                conn,
                LawyerIn(
                    name=name,
                    username=f"lawyer{i}",
                    password=DEMO_PASSWORD,
                    firm=firm,
                    license_no=f"1420120{i:08d}",
                    phone=f"1380000{i:04d}",
                    specialties=spec,
                ),
                password_hash=demo_hash,
            )
            lawyer_ids.append(lw["id"])
        worker_count = await load_demo_workers(conn, [cid for cid, _ in communities], DEMO_PASSWORD)
        # each community: one lawyer on weekday office hours, another always reachable
        roster: dict[int, list[int]] = {}
        for n, (cid, _) in enumerate(communities):
            day_lawyer, backup = lawyer_ids[n % len(lawyer_ids)], lawyer_ids[(n + 5) % len(lawyer_ids)]
            for wd in range(5):
                await admin.create_duty(conn, cid, DutyIn(lawyer_id=day_lawyer, weekday=wd, start="08:30", end="17:30"))
            await admin.create_duty(conn, cid, DutyIn(lawyer_id=backup))
            roster[cid] = [day_lawyer, backup]
        city_pool = await admin.create_pool(conn, PoolIn(name="市律师服务团"))
        for lid in lawyer_ids[:6]:
            await admin.add_pool_member(conn, city_pool["id"], lid)
        district_pool = await admin.create_pool(conn, PoolIn(name="江岸区律师服务团", district_id=district_ids[0]))
        for lid in lawyer_ids[6:]:
            await admin.add_pool_member(conn, district_pool["id"], lid)
        residents = [(await auth_repo.upsert_resident_by_openid(conn, f"demo-openid-{i}"))["id"] for i in range(40)]
        members = {city_pool["id"]: lawyer_ids[:6], district_pool["id"]: lawyer_ids[6:]}
        made = await _history(
            conn,
            settings,
            rng,
            communities,
            roster,
            residents,
            {district_ids[0]: district_pool["id"]},
            city_pool["id"],
            members,
            days,
            per_day,
        )
    return (
        f"demo loaded: {len(CITY)} districts, {len(communities)} communities, {len(lawyer_ids)} lawyers, "
        f"2 pools, {made} questions; bureau login {BUREAU_USER} / {DEMO_PASSWORD}, "
        f"lawyers lawyer1..lawyer{len(lawyer_ids)} / {DEMO_PASSWORD}, "
        f"community workers worker1..worker{worker_count} / {DEMO_PASSWORD}"
    )


async def _history(
    conn: asyncpg.Connection,
    settings: Any,
    rng: random.Random,
    communities: list[tuple[int, int]],
    roster: dict[int, list[int]],
    residents: list[int],
    district_pools: dict[int, int],
    city_pool: int,
    members: dict[int, list[int]],
    days: int,
    per_day: int,
) -> int:
    """Backdated questions with realistic response times (mean about 6.6 minutes), all answered."""
    tz = ZoneInfo(settings.timezone)
    window = timedelta(seconds=settings.escalate_after_seconds)
    pool_sla = timedelta(seconds=settings.pool_sla_seconds)
    today = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    cats, weights = list(MIX), list(MIX.values())
    made = 0
    for day in range(days, 0, -1):
        for _ in range(per_day):
            created = today - timedelta(days=day) + timedelta(seconds=rng.uniform(7 * 3600, 22 * 3600))
            cid, district = rng.choice(communities)
            cat = rng.choices(cats, weights)[0]
            lawyer = roster[cid][rng.random() < 0.3]
            delay = timedelta(seconds=min(rng.expovariate(1 / 330), 3 * 3600))
            escalated = delay > window
            pool = district_pools.get(district, city_pool) if escalated else None
            answered_by = lawyer
            escalated_at = alert_at = alerted_at = claimed_at = None
            if escalated:
                escalated_at = created + window
                alert_at = escalated_at + pool_sla
                delay = window + timedelta(seconds=rng.expovariate(1 / 240))
                assert pool is not None
                answered_by = rng.choice(members[pool])
                claimed_at = escalated_at + (delay - window) / 2
                alerted_at = alert_at if created + delay > alert_at else None
            first = created + delay
            level = routing.resolved_level(
                escalated=escalated,
                alerted_before_answer=alerted_at is not None,
                pool_district_id=district if pool != city_pool and pool else None,
            )
            adopted = rng.random() < 0.6
            rating = rng.choices([5, 4, 3, 2, 1], [60, 25, 8, 4, 3])[0] if rng.random() < 0.7 else None
            closed = first + timedelta(minutes=rng.uniform(10, 600)) if adopted else None
            resident = rng.choice(residents)
            qid = await demo_repo.insert_question(
                conn,
                cid,
                resident,
                cat,
                SAMPLES[cat],
                "closed" if adopted else "answered",
                answered_by,
                pool,
                created,
                created + window,
                escalated_at,
                "window_passed" if escalated else None,
                alert_at,
                alerted_at,
                claimed_at,
                first,
                answered_by,
                level,
                closed,
                rating,
                (closed or first) + timedelta(minutes=5) if rating else None,
            )
            ev = demo_repo.insert_event
            await ev(conn, qid, "created", None, "resident", resident, {"community_id": cid}, created)
            await ev(conn, qid, "routed", None, "system", None, {"lawyer_id": lawyer}, created)
            if escalated:
                await ev(
                    conn,
                    qid,
                    "escalated",
                    1,
                    "system",
                    None,
                    {"from_lawyer_id": lawyer, "pool_id": pool},
                    escalated_at,
                )
                await ev(conn, qid, "claimed", None, "lawyer", answered_by, {"lawyer_id": answered_by}, claimed_at)
                if alerted_at:
                    await ev(conn, qid, "alerted", 2, "system", None, {"pool_id": pool}, alerted_at)
            mid = await demo_repo.insert_message(
                conn,
                qid,
                "lawyer",
                answered_by,
                "answer",
                "您好，根据《民法典》相关规定，建议您先保留证据，协商不成可申请人民调解或向法院起诉。",
                first,
            )
            await ev(conn, qid, "answered", None, "lawyer", answered_by, {"message_id": mid}, first)
            if adopted:
                await demo_repo.set_adopted(conn, qid, mid)
                await ev(conn, qid, "adopted", None, "resident", resident, {"answer_id": mid}, closed)
            if rating:
                await demo_repo.insert_rating(conn, qid, resident, rating, (closed or first))
            made += 1
    return made
