from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from .authentication import forget_saved_user
        from .models import User

        post_save.connect(forget_saved_user, sender=User, dispatch_uid="accounts.forget_user")
        post_delete.connect(forget_saved_user, sender=User, dispatch_uid="accounts.forget_user")
