from django.urls import path
from rest_framework.routers import DefaultRouter

from gmina.consortium.api import views

router = DefaultRouter()
router.register("members", views.MemberViewSet, basename="member")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("tokens", views.ApiTokenViewSet, basename="apitoken")
router.register("audit", views.AuditEntryViewSet, basename="auditentry")

urlpatterns = [path("whoami/", views.WhoAmIView.as_view(), name="whoami"), *router.urls]
