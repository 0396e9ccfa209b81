"""The department console (承办单位工作台): a department's handler and reviewer see
their department's tickets (those it leads, co-handles or was whistled into, and
its sub-units' read-only) and work them on the ticket page.

Who may see and do what is :mod:`tickets.permissions` (``web.ticket_access``);
the actions go through the ticket API (``web.routers.tickets``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from web.deps import department_directory, get_context
from web.roles import Principal, Role, require_roles

router = APIRouter(tags=["department"])

DEPARTMENT_ROLES = (Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_REVIEWER)
DepartmentUser = Annotated[Principal, Depends(require_roles(*DEPARTMENT_ROLES))]


@router.get("/department", response_class=HTMLResponse)
def department_page(request: Request, principal: DepartmentUser) -> HTMLResponse:
    """承办单位工作台: the department's tickets."""
    directory = department_directory(get_context(request))
    found = directory.find(principal.department)
    return request.app.state.templates.TemplateResponse(
        request,
        "department.html",
        {
            "principal": principal,
            "department": found.name if found is not None else principal.department,
        },
    )
