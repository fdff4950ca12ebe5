from django.urls import path

from assets.views import access as views_access
from assets.views import library as library_views
from assets.views import manifest as manifest_views
from assets.views import provenance as views_provenance
from assets.views import uploads as upload_views

app_name = "assets"

urlpatterns = [
    path("", library_views.library, name="library"),
    path("upload/", upload_views.upload_page, name="upload"),
    path("provenance/", views_provenance.provenance_verify, name="provenance-verify"),
    path("uploads/", upload_views.upload_start, name="upload-start"),
    path("uploads/<int:asset_id>/parts/", upload_views.upload_parts, name="upload-parts"),
    path("uploads/<int:asset_id>/parts/<int:part_number>/", upload_views.upload_part, name="upload-part"),
    path("uploads/<int:asset_id>/complete/", upload_views.upload_complete, name="upload-complete"),
    path("uploads/<int:asset_id>/abort/", upload_views.upload_abort, name="upload-abort"),
    path("<int:asset_id>/", library_views.detail, name="detail"),
    path("<int:asset_id>/status/", library_views.status, name="status"),
    path("<int:asset_id>/download/", library_views.download, name="download"),
    path("<int:asset_id>/provenance.c2pa", manifest_views.manifest_download, name="manifest"),
    path("<int:asset_id>/renditions/<str:kind>/", library_views.rendition, name="rendition"),
    path("<int:asset_id>/delete/", library_views.delete, name="delete"),
    path("<int:asset_id>/access-log/", views_access.asset_access_log, name="access-log"),
    path("receipts/<int:deletionreceipt_id>/", library_views.receipt_download, name="receipt"),
]
