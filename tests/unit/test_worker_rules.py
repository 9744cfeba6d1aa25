"""Pure rules of the worker area: masking of an offline resident, the print page's escaping."""

from __future__ import annotations

from fazhizhen.services.auth import Principal
from fazhizhen.services.workers import mask_name, mask_phone, offline_view, render_html

ASKER = {"worker_id": 7, "name": "欧阳建国", "phone": "0755-8888 1234"}


def test_masks() -> None:
    assert mask_phone("13900001111") == "139****1111"
    assert mask_phone("+86 139 0000 1111") == "861****1111"
    assert mask_phone("0755-8888 1234") == "075****1234"
    assert mask_phone("12345") == "*****"
    assert mask_name("张三") == "张*" and mask_name("欧阳建国") == "欧***" and mask_name("王") == "王*"


def test_offline_resident_in_clear_only_for_entering_worker_and_assignee() -> None:
    clear = {"name": "欧阳建国", "phone": "0755-8888 1234"}
    masked = {"name": "欧***", "phone": "075****1234"}
    assert offline_view(ASKER, 3, Principal("worker", 7)) == clear
    assert offline_view(ASKER, 3, Principal("lawyer", 3)) == clear
    assert offline_view(ASKER, 3, Principal("worker", 8)) == masked
    assert offline_view(ASKER, 3, Principal("lawyer", 4)) == masked
    assert offline_view(ASKER, 3, Principal("bureau", 7)) == masked
    assert offline_view({**ASKER, "name": None, "phone": None}, 3, Principal("bureau", 1)) == {
        "name": None,
        "phone": None,
    }


def test_print_page_escapes_everything() -> None:
    page = render_html("<title>", "居民：<script>alert(1)</script>\n【律师解答】\n&amp;")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&lt;title&gt;" in page and "&amp;amp;" in page
