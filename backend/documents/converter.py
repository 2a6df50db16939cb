"""docx → PDF/A-2b through the converter process (`manage.py run_converter`, see pool.py).

The client speaks unoserver's XML-RPC `convert` call directly (the one `unoserver.client.UnoClient` makes)
with a socket timeout, because UnoClient has none and asks for the whole filter list on every call. It
never starts, restarts or stops the converter: that is the process manager's job (honcho, systemd).
"""

from __future__ import annotations

import logging
import time
import xmlrpc.client

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .exceptions import ConversionFailed, ConversionTimedOut, ConverterBusy, ConverterUnavailable
from .pool import CONNECTION_ERRORS, FAULT_BUSY, FAULT_TIMEOUT, xmlrpc_proxy

logger = logging.getLogger("backend.documents.converter")

# PDF/A-2b: LibreOffice's writer_pdf_Export "SelectPdfVersion" 2 (1 would be PDF/A-1b, 3 PDF/A-3b).
PDF_FILTER_OPTIONS = ["SelectPdfVersion=2"]
PROBE_TIMEOUT_SECONDS = 5.0


def _answer_timeout() -> float:
    """How long the converter may take to answer: the longest wait in its queue, one conversion, a margin."""
    return float(settings.QUJAT_CONVERTER_QUEUE_WAIT) + float(settings.QUJAT_CONVERTER_TIMEOUT) + 10.0


def convert_docx_to_pdf(docx: bytes) -> bytes:
    """The PDF/A-2b rendering of a .docx; waits a little for a converter that is (re)starting."""
    host, port = settings.QUJAT_CONVERTER_HOST, int(settings.QUJAT_CONVERTER_PORT)
    timeout = _answer_timeout()
    # A converter restarting (or starting beside this worker under honcho) refuses connections briefly.
    patience = time.monotonic() + float(settings.QUJAT_CONVERTER_CONNECT_WAIT)
    while True:
        try:
            with xmlrpc_proxy(host, port, timeout) as proxy:
                result = proxy.convert(
                    None,  # inpath: the document travels in the request, so a remote converter works too
                    xmlrpc.client.Binary(docx),
                    None,  # outpath: the PDF comes back in the response
                    "pdf",
                    None,  # export filter: chosen from the document type (writer_pdf_Export)
                    PDF_FILTER_OPTIONS,
                    False,  # update_index: our documents have no tables of contents to refresh
                    None,
                    None,
                )
        except TimeoutError:
            logger.error("the converter on %s:%s did not answer within %.0f s", host, port, timeout)
            raise ConversionTimedOut(
                _("The PDF converter did not answer within %(seconds)s seconds. Try again in a minute.")
                % {"seconds": int(timeout)}
            ) from None
        except xmlrpc.client.Fault as fault:
            raise _refusal(fault) from None
        except CONNECTION_ERRORS as error:
            if time.monotonic() < patience:
                time.sleep(0.5)
                continue
            logger.error("the converter on %s:%s is unreachable: %s", host, port, error)
            raise ConverterUnavailable(
                _(
                    "The PDF converter on %(host)s:%(port)s is not running (it is started with "
                    "`manage.py run_converter`; `make run` starts it)."
                )
                % {"host": host, "port": port}
            ) from None
        if not isinstance(result, xmlrpc.client.Binary):
            raise ConversionFailed(_("The PDF converter answered without a document."))
        return bytes(result.data)


def _refusal(fault: xmlrpc.client.Fault) -> ConversionFailed:
    if fault.faultCode == FAULT_BUSY:
        logger.warning("the converter is busy: %s", fault.faultString)
        return ConverterBusy(
            _("The PDF converter is busy with other documents. Try again in a minute."),
        )
    if fault.faultCode == FAULT_TIMEOUT:
        return ConversionTimedOut(
            _("Converting the document took longer than %(seconds)s seconds; the converter was restarted.")
            % {"seconds": int(settings.QUJAT_CONVERTER_TIMEOUT)}
        )
    if "Could not load document" in fault.faultString:
        return ConversionFailed(_("LibreOffice could not open the document: %(error)s") % {"error": fault.faultString})
    return ConverterUnavailable(_("The PDF converter failed: %(error)s") % {"error": fault.faultString[:500]})


def converter_ready() -> bool:
    """Whether the configured converter answers right now."""
    try:
        with xmlrpc_proxy(
            settings.QUJAT_CONVERTER_HOST, int(settings.QUJAT_CONVERTER_PORT), PROBE_TIMEOUT_SECONDS
        ) as p:
            p.system.listMethods()
    except (*CONNECTION_ERRORS, xmlrpc.client.Fault):
        return False
    return True
