"""The NCALayer signing partial's one setting: where the signer's browser finds NCALayer."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def ncalayer_address() -> str:
    return str(settings.QUJAT_NCALAYER_URL)
