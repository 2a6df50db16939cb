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


class ConverterBusy(ConverterUnavailable):
    """Too many documents wait for the converter already (back-pressure); worth retrying later."""

    default_code = "converter_busy"


class ConversionTimedOut(ConversionFailed):
    """One conversion took longer than QUJAT_CONVERTER_TIMEOUT; its LibreOffice was replaced."""

    default_code = "conversion_timeout"
