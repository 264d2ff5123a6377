"""A deliberately leaky URL configuration: proves the harness catches a forgotten scope."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from gmina.consortium.models import Member


def leaky_member_list(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"names": [m.name for m in Member.all_tenants.all()]})


def leaky_member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return JsonResponse({"name": Member.all_tenants.get(pk=pk).name})


urlpatterns = [
    path("leaky/members/", leaky_member_list, name="leaky_member_list"),
    path("leaky/members/<int:pk>/", leaky_member_detail, name="leaky_member_detail"),
]
