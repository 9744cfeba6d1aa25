"""`fazhizhen import`: GBK, UTF-8 and .xlsx; every bad row reported before any change; re-runs idempotent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
from openpyxl import Workbook

from fazhizhen.importer import parse, read_table
from fazhizhen.services import importer
from tests.conftest import ROOT

COMMUNITIES = "区,街道,社区\n江岸区,大智街道,球场社区\n江岸区,大智街道,三阳社区\n武昌区,中华路街道,解放路社区\n"
LAWYERS = (
    "姓名,用户名,律所,执业证号,手机,擅长领域,初始密码\n"
    "张明,zhangming,湖北楚天律师事务所,14201201000001,13800000001,邻里纠纷、物业纠纷,zhangming-2026\n"
    "李芳,lifang,武汉江城律师事务所,,,婚姻家庭,\n"
)


def _file(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


async def _import(conn: asyncpg.Connection, kind: str, path: Path) -> importer.Report:
    return await importer.run(conn, parse(kind, read_table(path)))


async def test_gbk_communities_import_once_then_rerun_changes_nothing(conn: asyncpg.Connection, tmp_path: Path) -> None:
    path = _file(tmp_path, "communities.csv", COMMUNITIES, "gbk")
    first = await _import(conn, "communities", path)
    assert first.ok and (first.created, first.unchanged) == (3, 0)
    names = await conn.fetch(
        "SELECT d.name AS d, s.name AS s, c.name AS c FROM communities c JOIN streets s ON s.id = c.street_id "
        "JOIN districts d ON d.id = s.district_id WHERE d.name IN ('江岸区', '武昌区') ORDER BY c.name"
    )
    assert [r["c"] for r in names] == sorted(["球场社区", "三阳社区", "解放路社区"])
    again = await _import(conn, "communities", path)
    assert again.ok and (again.created, again.unchanged) == (0, 3)


async def test_bad_rows_are_all_reported_with_line_numbers_and_nothing_is_written(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    text = LAWYERS + ",nobody,,,,,\n王强,wangqiang,,,,劳动争议、算命,\n张明,zhangming,,,,,\n赵磊,zl,,,,,\n"
    path = _file(tmp_path, "lawyers.csv", text, "gbk")
    before = await conn.fetchval("SELECT count(*) FROM accounts")
    report = await _import(conn, "lawyers", path)
    assert not report.ok
    reasons = {e.line: e.reason for e in report.errors}
    assert sorted(reasons) == [4, 5, 6, 7]
    assert "name" in reasons[4] and "算命" in reasons[5] and "line 2" in reasons[6] and "username" in reasons[7]
    assert await conn.fetchval("SELECT count(*) FROM accounts") == before


async def test_lawyers_rosters_pools_import_and_rerun_idempotently(conn: asyncpg.Connection, tmp_path: Path) -> None:
    await _import(conn, "communities", _file(tmp_path, "c.csv", COMMUNITIES))
    lawyers = await _import(conn, "lawyers", _file(tmp_path, "l.csv", LAWYERS))
    assert lawyers.ok and lawyers.created == 2
    assert list(lawyers.passwords) == ["lifang"]  # generated where the sheet had none
    spec = await conn.fetchval(
        "SELECT specialties FROM lawyers l JOIN accounts a USING (id) WHERE username = 'zhangming'"
    )
    assert spec == ["neighbor", "property"]

    rosters = "区,街道,社区,律师用户名,星期,开始,结束\n江岸区,大智街道,球场社区,zhangming,周一,08:30,17:30\n"
    rosters += "江岸区,大智街道,球场社区,lifang,,,\n"
    bad = _file(tmp_path, "bad.csv", rosters + "江岸区,大智街道,不存在社区,lifang,8,9:00,\n")
    failed = await _import(conn, "rosters", bad)
    assert [(e.line, "weekday" in e.reason) for e in failed.errors] == [(4, True)]
    missing = _file(tmp_path, "missing.csv", rosters + "江岸区,大智街道,不存在社区,lifang,1,9:00,12:00\n")
    failed = await _import(conn, "rosters", missing)
    assert [e.line for e in failed.errors] == [4] and "不存在社区" in failed.errors[0].reason
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM duty_slots d JOIN communities c ON c.id = d.community_id WHERE c.name = '球场社区'"
        )
        == 0
    )
    good = _file(tmp_path, "r.csv", rosters)
    assert (await _import(conn, "rosters", good)).created == 2
    assert (await _import(conn, "rosters", good)).unchanged == 2
    slot = await conn.fetchrow(
        "SELECT weekday, start_time::text AS s FROM duty_slots d JOIN lawyers l ON l.id = d.lawyer_id "
        "WHERE l.name = '张明'"
    )
    assert (slot["weekday"], slot["s"]) == (0, "08:30:00")

    pools = "服务团,区,律师用户名\n江岸区律师服务团,江岸区,zhangming\n市律师服务团,,lifang\n市律师服务团,,zhangming\n"
    path = _file(tmp_path, "p.csv", pools)
    assert (await _import(conn, "pools", path)).created == 3
    assert (await _import(conn, "pools", path)).unchanged == 3
    assert await conn.fetchval("SELECT count(*) FROM pools WHERE name IN ('江岸区律师服务团', '市律师服务团')") == 2


def test_xlsx_is_read_like_csv(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["区", "街道", "社区"])
    sheet.append(["江汉区", "民族街道", "营北社区"])
    sheet.append([None, None, None])
    sheet.append(["江汉区", None, "楚宝社区"])
    book.save(tmp_path / "c.xlsx")
    parsed = parse("communities", read_table(tmp_path / "c.xlsx"))
    assert [r["community"] for r in parsed.rows] == ["营北社区"]
    assert [(e.line, "street" in e.reason) for e in parsed.errors] == [(4, True)]


def test_cli_reports_bad_rows_and_exits_1_then_imports(db_dsn: str, tmp_path: Path) -> None:
    env = {**os.environ, "FAZHIZHEN_DATABASE_URL": db_dsn, "FAZHIZHEN_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "fazhizhen", "import", "communities"]
    bad = _file(tmp_path, "bad.csv", COMMUNITIES + "江岸区,,空街道社区\n", "gbk")
    res = subprocess.run([*cmd, str(bad)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "line 5:" in res.stdout + res.stderr, res.stdout + res.stderr
    good = _file(tmp_path, "good.csv", COMMUNITIES, "gbk")
    res = subprocess.run([*cmd, str(good)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "3 created" in res.stdout, res.stdout + res.stderr
