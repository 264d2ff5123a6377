from django.urls import path

from gmina.water import views, views_alerts

app_name = "water"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("zones/", views.zone_list, name="zone_list"),
    path("zones/<int:pk>/", views.zone_detail, name="zone_detail"),
    path("meters/", views.meter_list, name="meter_list"),
    path("meters/<int:pk>/", views.meter_detail, name="meter_detail"),
    path("events/", views.event_list, name="event_list"),
    path("imports/", views.batch_list, name="batch_list"),
    path("imports/upload/", views.upload, name="upload"),
    path("imports/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("quarantine/", views.quarantine_list, name="quarantine_list"),
    path("quarantine/bulk/", views.quarantine_bulk, name="quarantine_bulk"),
    path("quarantine/<int:pk>/", views.quarantine_detail, name="quarantine_detail"),
    path("quarantine/<int:pk>/fix/", views.quarantine_fix, name="quarantine_fix"),
    path("alerts/", views_alerts.alert_list, name="alert_list"),
    path("alerts/<int:pk>/", views_alerts.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", views_alerts.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:pk>/assign/", views_alerts.alert_assign, name="alert_assign"),
    path("alerts/<int:pk>/resolve/", views_alerts.alert_resolve, name="alert_resolve"),
]
