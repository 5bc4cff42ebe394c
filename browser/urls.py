from django.urls import path

from browser import views

# DRF's templates put "Log in" / "Log out" links in the browsable API's navbar when they
# find these names in the `rest_framework` namespace.
app_name = "rest_framework"

urlpatterns = [
    path("login", views.login, name="login"),
    path("logout", views.logout, name="logout"),
]
