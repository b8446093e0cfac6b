from django.urls import path

from . import views

app_name = "ui"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.SignInView.as_view(), name="signin"),
    path("signout/", views.sign_out, name="signout"),
    path("models/", views.models_list, name="models"),
    path("models/<str:name>/", views.model_detail, name="model"),
    path("models/<str:name>/compare/", views.compare, name="compare"),
    path("models/<str:name>/versions/<int:version>/", views.version_detail, name="version"),
]
