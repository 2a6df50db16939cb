"""Every demo user can log in through the login page, in each of the three languages."""

import pytest
from django.test import Client

from backend.accounts.models import User

pytestmark = pytest.mark.django_db

LABELS = {"kk": "Кіру", "ru": "Войти", "en": "Log in"}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_login_page_speaks_the_chosen_language(demo: None, language: str) -> None:
    client = Client()
    client.post("/i18n/setlang/", {"language": language, "next": "/login/"})
    page = client.get("/login/")
    assert page.status_code == 200
    assert f'lang="{language}"' in page.content.decode()
    assert LABELS[language] in page.content.decode()


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_demo_user_can_log_in(demo: None, language: str) -> None:
    usernames = list(User.objects.filter(email__endswith="@demo.qujat.kz").values_list("username", flat=True))
    assert len(usernames) > 80
    for username in usernames:
        client = Client()
        client.cookies["django_language"] = language
        response = client.post("/login/", {"username": username, "password": "demo"})
        assert response.status_code == 302, username
        home = client.get("/")
        assert home.status_code == 200
        assert 'data-testid="current-user"' in home.content.decode()


def test_a_wrong_password_shows_the_form_again_with_an_error(demo: None) -> None:
    response = Client().post("/login/", {"username": "teacher1", "password": "wrong"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()


def test_pages_need_a_login_and_unknown_pages_are_plain_404s(demo: None) -> None:
    assert Client().get("/").status_code == 302
    client = Client()
    client.login(username="teacher1", password="demo")
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    assert "Traceback" not in missing.content.decode()
