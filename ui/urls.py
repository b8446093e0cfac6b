from django.urls import path

from . import views

app_name = "ui"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.SignInView.as_view(), name="signin"),
    path("signout/", views.sign_out, name="signout"),
    path("models/", views.models_list, name="models"),
    path("models/<str:name>/", views.model_detail, name="model"),
    path("models/<str:name>/description/", views.model_description, name="model_description"),
    path("models/<str:name>/tags/", views.model_tag_set, name="model_tag_set"),
    path("models/<str:name>/tags/delete/", views.model_tag_delete, name="model_tag_delete"),
    path("models/<str:name>/notifications/", views.model_subscription, name="model_subscription"),
    path("models/<str:name>/compare/", views.compare, name="compare"),
    path("models/<str:name>/versions/<int:version>/", views.version_detail, name="version"),
    path("models/<str:name>/versions/<int:version>/description/", views.version_description, name="version_description"),
    path("models/<str:name>/versions/<int:version>/request/", views.version_request, name="version_request"),
    path("models/<str:name>/versions/<int:version>/transition/", views.version_transition, name="version_transition"),
    path("models/<str:name>/versions/<int:version>/alias/", views.version_alias, name="version_alias"),
    path("models/<str:name>/versions/<int:version>/alias/delete/", views.version_alias_delete, name="version_alias_delete"),
    path("models/<str:name>/versions/<int:version>/requests/<int:request_id>/review/", views.request_review, name="request_review"),
    path("models/<str:name>/versions/<int:version>/requests/<int:request_id>/cancel/", views.request_cancel, name="request_cancel"),
    path("models/<str:name>/versions/<int:version>/comments/", views.comment_add, name="comment_add"),
    path("models/<str:name>/versions/<int:version>/comments/<int:comment_id>/edit/", views.comment_edit, name="comment_edit"),
    path("models/<str:name>/versions/<int:version>/comments/<int:comment_id>/delete/", views.comment_delete, name="comment_delete"),
    path("reviews/", views.reviews, name="reviews"),
    path("my-requests/", views.my_requests, name="my_requests"),
    path("activity/", views.activity, name="activity"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/delivery/", views.notification_delivery, name="notification_delivery"),
]
