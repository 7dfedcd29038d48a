# Slim production image: gunicorn for web, the same image runs the Celery worker and beat.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=taskplatform.settings.prod \
    VAR_DIR=/app/var

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN useradd --system --create-home --uid 10001 app \
    && mkdir -p /app/var \
    && SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789abcdefgh \
       python manage.py collectstatic --noinput --settings=taskplatform.settings.base \
    && chown -R app:app /app/var

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live').status != 200)"
CMD ["gunicorn", "taskplatform.wsgi", "-c", "gunicorn.conf.py"]
