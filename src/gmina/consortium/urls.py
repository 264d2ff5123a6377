from django.urls import path

from gmina.consortium import views

urlpatterns = [
    path("", views.home, name="home"),
    path("members/", views.member_list, name="member_list"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/tokens/issue/", views.token_issue, name="token_issue"),
    path("members/<int:pk>/roles/grant/", views.role_grant, name="role_grant"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("memberships/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
]
