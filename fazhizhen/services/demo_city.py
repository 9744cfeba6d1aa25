"""`fazhizhen demo --scale city`: a Wuhan-sized city and a year of questions, written with COPY.

13 districts, 160 streets, 1,400 communities, 3,114 lawyers on rosters and in pools, about 200
questions a day for a year with the published category mix and responses averaging about 6.6
minutes. Rows are generated in Python and streamed with binary COPY; ids are reserved from the
sequences first so children can point at their parents without a round trip per row.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.repo import demo_city as repo
from fazhizhen.services import metrics, routing
from fazhizhen.services.auth import create_or_reset_bureau
from fazhizhen.services.demo import BUREAU_USER, DEMO_PASSWORD, MIX, SAMPLES
from fazhizhen.services.passwords import hash_password

log = get_logger("fazhizhen.demo_city")

# Wuhan's 13 districts and how many streets each gets (160 in all)
DISTRICTS = {
    "江岸区": 16, "江汉区": 13, "硚口区": 11, "汉阳区": 11, "武昌区": 14, "青山区": 10, "洪山区": 15,
    "东西湖区": 11, "汉南区": 5, "蔡甸区": 12, "江夏区": 14, "黄陂区": 16, "新洲区": 12,
}  # fmt: skip
COMMUNITIES = 1400
LAWYERS = 3114
RESIDENTS = 40_000
PER_DAY = 200
# outer districts without a pool of their own: their escalations go to the city-wide pool (level C)
NO_DISTRICT_POOL = ("汉南区", "新洲区")
# first-response delay: exponential with this mean, capped by the window (then the pool answers);
# 417 s gives an overall mean of about 6.6 minutes with a 15-minute window
MEAN_COMMUNITY_SECONDS = 417.0
MEAN_POOL_SECONDS = 240.0

_PLACE = (  # noqa: SIM905 (a readable word list)
    "长江 汉水 东湖 南湖 晴川 黄鹤 紫阳 首义 中南 珞珈 白沙 青山 红钢 建设 和平 友谊 幸福 光明 民主 解放 胜利 团结 "
    "新华 永丰 长丰 古田 汉正 花桥 后湖 百步 二七 台北 丹水 鹦鹉 琴台 月湖 龙阳 四新 钟家 杨园 徐东 水果 积玉 "
    "粮道 首义 宝通 关山 卓刀 狮子 梨园 石牌 常青 将军 金银 吴家 纸坊 藏龙 前川 滠口 盘龙 邾城 阳逻 奓山 索河"
).split()
_SUFFIX = ("社区", "花园社区", "新村社区", "里社区", "苑社区", "湾社区", "小区社区", "路社区")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲飞鹏辉宇浩凯健俊帆雪琳晨欣"
_FIRMS = [f"湖北{w}律师事务所" for w in ("楚天", "大成", "得伟君尚", "首义", "珞珈", "今天", "山河", "诚明")] + [
    f"武汉{w}律师事务所" for w in ("江城", "长江", "晴川", "黄鹤", "东湖", "汉水", "琴台", "光谷")
]
_ANSWER = "您好，根据《民法典》相关规定，建议您先保留证据，协商不成可申请人民调解或向法院起诉。"
_FOLLOWUP = "谢谢律师，如果对方不配合调解，我需要准备哪些材料？"
_FOLLOWUP_ANSWER = "请准备身份证明、相关合同或聊天记录、照片视频等证据，可先到社区人民调解委员会申请调解。"


def _names(rng: random.Random, n: int, suffix: str, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        name = rng.choice(_PLACE) + suffix if len(taken) < 40 else rng.choice(_PLACE) + rng.choice(_PLACE) + suffix
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


async def load_city(conn: asyncpg.Connection, settings: Any, *, scale: float = 1.0, seed: int = 2026) -> str:
    """Build the city into an empty database (or say it is there already); returns a summary."""
    started = time.perf_counter()
    if await repo.city_loaded(conn):
        return "city demo data already loaded"
    if await repo.has_places(conn):
        raise ValueError("the database already holds other places: load the city into an empty database")
    rng = random.Random(seed)
    laps: dict[str, float] = {}
    mark = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        laps[name], mark[0] = round(now - mark[0], 1), now

    tz = ZoneInfo(settings.timezone)
    window = timedelta(seconds=settings.escalate_after_seconds)
    pool_sla = timedelta(seconds=settings.pool_sla_seconds)
    n_communities = max(len(DISTRICTS) * 2, round(COMMUNITIES * scale))
    n_lawyers = max(n_communities + 20, round(LAWYERS * scale))
    days, per_day = max(7, round(365 * min(1.0, scale * 4))), max(20, round(PER_DAY * scale))
    await create_or_reset_bureau(conn, BUREAU_USER, DEMO_PASSWORD)
    pw_hash = await hash_password(DEMO_PASSWORD)

    async with conn.transaction():
        # --- places --------------------------------------------------------------------------
        district_ids = await repo.reserve(conn, "districts", len(DISTRICTS))
        n_streets = sum(DISTRICTS.values()) if scale >= 1 else len(DISTRICTS) * 2
        street_ids = await repo.reserve(conn, "streets", n_streets)
        community_ids = await repo.reserve(conn, "communities", n_communities)
        districts, streets, communities = [], [], []
        street_of: list[tuple[int, int]] = []  # (street_id, district_id)
        s_iter = iter(street_ids)
        for (dname, n), did in zip(DISTRICTS.items(), district_ids, strict=True):
            districts.append((did, dname))
            count = n if scale >= 1 else 2
            for sname in _names(rng, count, "街道", set()):
                sid = next(s_iter)
                streets.append((sid, did, sname))
                street_of.append((sid, did))
        community_district: dict[int, int] = {}
        taken: dict[int, set[str]] = {}
        for i, cid in enumerate(community_ids):
            sid, did = street_of[i % len(street_of)]
            name = _names(rng, 1, rng.choice(_SUFFIX), taken.setdefault(sid, set()))[0]
            communities.append((cid, sid, name))
            community_district[cid] = did
        await repo.copy(conn, "districts", ["id", "name"], districts)
        await repo.copy(conn, "streets", ["id", "district_id", "name"], streets)
        await repo.copy(conn, "communities", ["id", "street_id", "name"], communities)

        lap("places")
        # --- lawyers, rosters, pools --------------------------------------------------------------
        lawyer_ids = await repo.reserve(conn, "accounts", n_lawyers)
        cats = list(MIX)
        await repo.copy(
            conn,
            "accounts",
            ["id", "role", "username", "password_hash"],
            [(lid, "lawyer", f"lawyer{n}", pw_hash) for n, lid in enumerate(lawyer_ids, start=1)],
        )
        await repo.copy(
            conn,
            "lawyers",
            ["id", "name", "firm", "license_no", "phone", "specialties"],
            [
                (
                    lid,
                    _person(rng),
                    rng.choice(_FIRMS),
                    f"1420120{n:08d}",
                    f"139{n:08d}",
                    rng.sample(cats[:-1], 2),
                )
                for n, lid in enumerate(lawyer_ids, start=1)
            ],
        )
        # lawyers belong to districts in proportion to their communities
        by_district: dict[int, list[int]] = {did: [] for did in district_ids}
        ordered = sorted(community_ids, key=lambda c: community_district[c])
        for n, lid in enumerate(lawyer_ids):
            by_district[community_district[ordered[n * len(ordered) // len(lawyer_ids)]]].append(lid)
        roster: dict[int, tuple[int, int]] = {}
        duty: list[tuple[int, int, int | None, Any, Any]] = []
        for did, lawyers in by_district.items():
            mine = [c for c in community_ids if community_district[c] == did]
            for k, cid in enumerate(mine):
                day = lawyers[(2 * k) % len(lawyers)]
                backup = lawyers[(2 * k + 1) % len(lawyers)]
                roster[cid] = (day, backup)
                duty += [(cid, day, wd, _t("08:30"), _t("17:30")) for wd in range(5)]
                duty.append((cid, backup, None, None, None))
        await repo.copy(conn, "duty_slots", ["community_id", "lawyer_id", "weekday", "start_time", "end_time"], duty)
        pool_ids = await repo.reserve(conn, "pools", len(DISTRICTS) + 1)
        city_pool = pool_ids[-1]
        pools: list[tuple[int, str, int | None]] = [(city_pool, "武汉市律师服务团", None)]
        members: dict[int, list[int]] = {city_pool: rng.sample(lawyer_ids, max(5, len(lawyer_ids) // 20))}
        district_pool: dict[int, int] = {}
        for (did, dname), pid in zip(districts, pool_ids, strict=False):
            if dname in NO_DISTRICT_POOL:
                continue
            pools.append((pid, f"{dname}律师服务团", did))
            district_pool[did] = pid
            members[pid] = by_district[did][2::3] or by_district[did][:1]
        await repo.copy(conn, "pools", ["id", "name", "district_id"], pools)
        await repo.copy(
            conn, "pool_members", ["pool_id", "lawyer_id"], [(p, m) for p, ms in members.items() for m in ms]
        )

        lap("lawyers")
        # --- residents and a year of questions ----------------------------------------------------
        n_residents = max(200, round(RESIDENTS * scale))
        resident_ids = await repo.reserve(conn, "residents", n_residents)
        await repo.copy(
            conn, "residents", ["id", "openid"], [(rid, f"demo-city-{n}") for n, rid in enumerate(resident_ids)]
        )
        weights = [rng.paretovariate(2.5) for _ in community_ids]
        today = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        plan = []
        for day in range(days, 0, -1):
            start = today - timedelta(days=day)
            busy = 1.15 if start.weekday() < 5 else 0.65
            for _ in range(max(0, round(rng.gauss(per_day * busy, per_day * 0.08)))):
                plan.append(start + timedelta(seconds=rng.triangular(7 * 3600, 22.5 * 3600, 10 * 3600)))
        plan.sort()
        qids = await repo.reserve(conn, "questions", len(plan))
        picked = rng.choices(community_ids, weights, k=len(plan))
        questions, messages, events, ratings, adopted = [], [], [], [], []
        mids = iter(await repo.reserve(conn, "messages", len(plan) * 3))
        for qid, created, cid in zip(qids, plan, picked, strict=True):
            q = _question(rng, qid, created, cid, community_district[cid], roster[cid], window, pool_sla,
                          district_pool, city_pool, members, resident_ids)  # fmt: skip
            mid = next(mids)
            messages.append((mid, qid, "lawyer", q["answered_by"], "answer", _ANSWER, q["first"]))
            if rng.random() < 0.2:
                ask = q["first"] + timedelta(minutes=rng.uniform(5, 120))
                reply = ask + timedelta(minutes=rng.expovariate(1 / 20))
                messages.append((next(mids), qid, "resident", q["resident"], "followup", _FOLLOWUP, ask))
                messages.append((next(mids), qid, "lawyer", q["answered_by"], "answer", _FOLLOWUP_ANSWER, reply))
            events += q["events"]
            events.append((qid, "answered", None, "lawyer", q["answered_by"], {"message_id": mid}, q["first"]))
            if q["closed"]:
                adopted.append((qid, mid))
                events.append((qid, "adopted", None, "resident", q["resident"], {"answer_id": mid}, q["closed"]))
            if q["rating"]:
                ratings.append((qid, q["resident"], q["rating"], q["rated_at"], q["rated_at"]))
            questions.append(q["row"])
        lap("generate")
        await repo.bookkeeping_triggers(conn, on=False)
        fk_skipped = await repo.skip_foreign_key_checks(conn)
        await repo.copy(conn, "questions", repo.QUESTION_COLUMNS, questions)
        lap("copy_questions")
        await repo.copy(
            conn,
            "messages",
            ["id", "question_id", "author_role", "author_id", "kind", "content", "created_at"],
            messages,
        )
        lap("copy_messages")
        await repo.copy_json(
            conn,
            "question_events",
            ["question_id", "kind", "level", "actor_role", "actor_id", "data", "created_at"],
            events,
        )
        lap("copy_events")
        await repo.copy(conn, "ratings", ["question_id", "resident_id", "score", "created_at", "updated_at"], ratings)
        await repo.set_adopted(conn, adopted)
        lap("finish")
        await repo.bookkeeping_triggers(conn, on=True)
        await repo.open_callbacks(conn)
    lap("commit")
    loaded = time.perf_counter() - started
    rollups = await metrics.rebuild(conn, settings)
    took = time.perf_counter() - started
    avg = sum((q[16] - q[9]).total_seconds() for q in questions) / max(1, len(questions))
    log.info(
        "demo_city_loaded",
        questions=len(questions),
        seconds=round(took, 1),
        load_seconds=round(loaded, 1),
        foreign_key_checks=not fk_skipped,
        **laps,
    )
    return (
        f"city demo loaded in {took:.1f}s ({loaded:.1f}s COPY, {took - loaded:.1f}s metrics rollups "
        f"for {rollups} community-days): {len(districts)} districts, {len(streets)} streets, "
        f"{len(communities)} communities, {len(lawyer_ids)} lawyers, {len(duty)} duty slots, {len(pools)} pools, "
        f"{len(resident_ids)} residents, {len(questions)} questions over {days} days "
        f"(avg first response {avg / 60:.1f} min), {len(messages)} messages, {len(events)} events; "
        f"bureau login {BUREAU_USER} / {DEMO_PASSWORD}, lawyers lawyer1..lawyer{len(lawyer_ids)} / {DEMO_PASSWORD}"
    )


def _t(hhmm: str) -> Any:
    from datetime import time as dtime

    return dtime.fromisoformat(hhmm)


def _question(
    rng: random.Random,
    qid: int,
    created: datetime,
    cid: int,
    district: int,
    roster: tuple[int, int],
    window: timedelta,
    pool_sla: timedelta,
    district_pool: dict[int, int],
    city_pool: int,
    members: dict[int, list[int]],
    resident_ids: list[int],
) -> dict[str, Any]:
    """One answered question's row and events, following the routing rules with a sampled delay."""
    local = created
    office = local.weekday() < 5 and (8, 30) <= (local.hour, local.minute) < (17, 30)
    lawyer = roster[0] if office else roster[1]
    resident = rng.choice(resident_ids)
    cat = rng.choices(list(MIX), list(MIX.values()))[0]
    delay = timedelta(seconds=min(rng.expovariate(1 / MEAN_COMMUNITY_SECONDS), 6 * 3600))
    escalated = delay > window
    pool = district_pool.get(district, city_pool) if escalated else None
    answered_by, escalated_at, alert_at, alerted_at, claimed_at = lawyer, None, None, None, None
    events: list[tuple[Any, ...]] = [
        (qid, "created", None, "resident", resident, {"community_id": cid, "category": cat}, created),
        (qid, "routed", None, "system", None, {"lawyer_id": lawyer}, created),
    ]
    if escalated and pool is not None:
        escalated_at = created + window
        alert_at = escalated_at + pool_sla
        delay = window + timedelta(seconds=rng.expovariate(1 / MEAN_POOL_SECONDS))
        answered_by = rng.choice(members[pool])
        claimed_at = escalated_at + (delay - window) / 2
        alerted_at = alert_at if created + delay > alert_at else None
        events.append((qid, "escalated", 1, "system", None, {"from_lawyer_id": lawyer, "pool_id": pool}, escalated_at))
        events.append((qid, "claimed", None, "lawyer", answered_by, {"lawyer_id": answered_by}, claimed_at))
        if alerted_at:
            events.append((qid, "alerted", 2, "system", None, {"pool_id": pool}, alerted_at))
    first = created + delay
    level = routing.resolved_level(
        escalated=escalated,
        alerted_before_answer=alerted_at is not None,
        pool_district_id=district if pool is not None and pool != city_pool else None,
    )
    closed = first + timedelta(minutes=rng.uniform(10, 600)) if rng.random() < 0.6 else None
    rating = rng.choices([5, 4, 3, 2, 1], [60, 25, 8, 4, 3])[0] if rng.random() < 0.7 else None
    rated_at = (closed or first) + timedelta(minutes=5) if rating else None
    row = (
        qid, cid, resident, cat, "resident", SAMPLES[cat], "closed" if closed else "answered", answered_by, pool,
        created, created + window, escalated_at, "window_passed" if escalated else None, alert_at, alerted_at,
        claimed_at, first, answered_by, level, closed, rating, rated_at, rated_at or closed or first,
        lawyer, answered_by if claimed_at else None, first, "answer",
    )  # fmt: skip
    return {
        "row": row,
        "events": events,
        "answered_by": answered_by,
        "resident": resident,
        "first": first,
        "closed": closed,
        "rating": rating,
        "rated_at": rated_at,
    }
