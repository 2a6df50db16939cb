"""Why a document could not be made, in words an administrator can act on."""

from rest_framework import status

from backend.core.exceptions import ApplicationError, ValidationFailed


class TemplateRefused(ValidationFailed):
    """The template is unsafe, broken, or leaves Jinja tags in the document; never retried."""

    default_code = "template_refused"


class ConversionFailed(ApplicationError):
    """LibreOffice could not turn the document into a PDF."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "conversion_failed"


class ConverterUnavailable(ConversionFailed):
    """The converter could not be reached or started; worth retrying later."""

    default_code = "converter_unavailable"


class ConversionTimedOut(ConversionFailed):
    """The converter took longer than QUJAT_CONVERTER_TIMEOUT; it has been asked to restart."""

    default_code = "conversion_timeout"
