"""What the small server-rendered pages behind emailed links share (accounts' verify and
reset pages, notifications' unsubscribe and preferences pages)."""

from __future__ import annotations

# the site's strict Content-Security-Policy, plus a page's own inline styles and forms
# posting to itself (the site-wide policy says form-action 'none')
FORM_PAGE_POLICY = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
}
