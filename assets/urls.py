from django.urls import path

from assets import views, views_access, views_manifest, views_provenance

app_name = "assets"

urlpatterns = [
    path("", views.library, name="library"),
    path("upload/", views.upload_page, name="upload"),
    path("provenance/", views_provenance.provenance_verify, name="provenance-verify"),
    path("uploads/", views.upload_start, name="upload-start"),
    path("uploads/<int:asset_id>/parts/", views.upload_parts, name="upload-parts"),
    path("uploads/<int:asset_id>/parts/<int:part_number>/", views.upload_part, name="upload-part"),
    path("uploads/<int:asset_id>/complete/", views.upload_complete, name="upload-complete"),
    path("uploads/<int:asset_id>/abort/", views.upload_abort, name="upload-abort"),
    path("<int:asset_id>/", views.detail, name="detail"),
    path("<int:asset_id>/status/", views.status, name="status"),
    path("<int:asset_id>/download/", views.download, name="download"),
    path("<int:asset_id>/provenance.c2pa", views_manifest.manifest_download, name="manifest"),
    path("<int:asset_id>/renditions/<str:kind>/", views.rendition, name="rendition"),
    path("<int:asset_id>/delete/", views.delete, name="delete"),
    path("<int:asset_id>/access-log/", views_access.asset_access_log, name="access-log"),
    path("receipts/<int:deletionreceipt_id>/", views.receipt_download, name="receipt"),
]
