"""The bureau's administration of places, lawyers, rosters and pools."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL
from fazhizhen.models.requests import (
    CommunityIn,
    DistrictIn,
    DutyIn,
    LawyerIn,
    PoolIn,
    PoolMemberIn,
    StreetIn,
)
from fazhizhen.models.responses import CommunityOut, DistrictOut, DutyOut, LawyerOut, PoolOut, StreetOut
from fazhizhen.services import admin
from fazhizhen.web.jsonio import parse_body, path_id, respond
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import endpoint

BUREAU = ("bureau",)


@endpoint("Create a district", roles=BUREAU, body=DistrictIn, response=DistrictOut, status=201, errors=(409,))
async def create_district(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    body = await parse_body(request, DistrictIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.create_district(conn, body), status=201)


@endpoint("List districts", roles=BUREAU, response=list[DistrictOut])
async def list_districts(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.list_districts(conn))


@endpoint("Create a street", roles=BUREAU, body=StreetIn, response=StreetOut, status=201, errors=(409,))
async def create_street(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    body = await parse_body(request, StreetIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.create_street(conn, body), status=201)


@endpoint("List streets", roles=BUREAU, response=list[StreetOut])
async def list_streets(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.list_streets(conn))


@endpoint(
    "Create a community", roles=BUREAU, body=CommunityIn, response=CommunityOut, status=201, errors=(409,)
)
async def create_community(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    body = await parse_body(request, CommunityIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.create_community(conn, body), status=201)


@endpoint("List communities", roles=BUREAU, response=list[CommunityOut])
async def list_communities(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.list_communities(conn))


@endpoint(
    "Create a lawyer account", roles=BUREAU, body=LawyerIn, response=LawyerOut, status=201, errors=(409,)
)
async def create_lawyer(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    body = await parse_body(request, LawyerIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.create_lawyer(conn, body), status=201)


@endpoint("List lawyers", roles=BUREAU, response=list[LawyerOut])
async def list_lawyers(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.list_lawyers(conn))


@endpoint(
    "Put a lawyer on a community's duty roster", roles=BUREAU, body=DutyIn, response=DutyOut, status=201
)
async def create_duty(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    community_id = path_id(request)
    body = await parse_body(request, DutyIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.create_duty(conn, community_id, body), status=201)


@endpoint("A community's duty roster", roles=BUREAU, response=list[DutyOut])
async def list_duty(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    community_id = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.list_duty(conn, community_id))


@endpoint("Remove a duty slot", roles=BUREAU, status=204)
async def delete_duty(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    community_id, slot_id = path_id(request), path_id(request, "slot_id")
    async with request.app[DB_POOL].acquire() as conn:
        await admin.delete_duty(conn, community_id, slot_id)
    return web.Response(status=204)


@endpoint("Create a lawyer service pool", roles=BUREAU, body=PoolIn, response=PoolOut, status=201)
async def create_pool(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    body = await parse_body(request, PoolIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.create_pool(conn, body), status=201)


@endpoint("List pools", roles=BUREAU, response=list[PoolOut])
async def list_pools(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await admin.list_pools(conn))


@endpoint("Add a lawyer to a pool", roles=BUREAU, body=PoolMemberIn, status=204)
async def add_pool_member(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    pool_id = path_id(request)
    body = await parse_body(request, PoolMemberIn)
    async with request.app[DB_POOL].acquire() as conn:
        await admin.add_pool_member(conn, pool_id, body.lawyer_id)
    return web.Response(status=204)


@endpoint("Remove a lawyer from a pool", roles=BUREAU, status=204)
async def remove_pool_member(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    pool_id, lawyer_id = path_id(request), path_id(request, "lawyer_id")
    async with request.app[DB_POOL].acquire() as conn:
        await admin.remove_pool_member(conn, pool_id, lawyer_id)
    return web.Response(status=204)
