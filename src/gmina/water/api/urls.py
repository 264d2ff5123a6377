from django.urls import path
from rest_framework.routers import DefaultRouter

from gmina.water.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("zones", views.ZoneViewSet, basename="zone")
router.register("service-points", views.ServicePointViewSet, basename="servicepoint")
router.register("meters", views.MeterViewSet, basename="meter")
router.register("readings", views.ReadingViewSet, basename="reading")
router.register("device-events", views.DeviceEventViewSet, basename="deviceevent")
router.register("import-batches", views.ImportBatchViewSet, basename="importbatch")
router.register("quarantine", views.QuarantineViewSet, basename="quarantinedrecord")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("detection-runs", views.DetectionRunViewSet, basename="detectionrun")

urlpatterns = [
    path("readings/batch/", views.ReadingBatchView.as_view(), name="reading-batch"),
    path("readings/upload/", views.ReadingUploadView.as_view(), name="reading-upload"),
    *router.urls,
]
