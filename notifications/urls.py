"""The pages the emails' footer links open (server-rendered; the API has the preferences too)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("unsubscribe/", pages.unsubscribe_page, name="unsubscribe-page"),
    path("email-preferences/", pages.preferences_page, name="email-preferences-page"),
    # the embedded default's mail (make run): 404 anywhere else
    path("mailbox/", pages.mailbox_page, name="mailbox-page"),
    path("mailbox/<str:name>/", pages.mailbox_mail_page, name="mailbox-mail-page"),
]
