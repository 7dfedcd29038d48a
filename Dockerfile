# Slim production image: gunicorn for web, the same image runs the Celery worker and beat.
FROM python:3.11-slim AS base

# HOST: gunicorn listens on every interface of the container (its default is 127.0.0.1)
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=taskplatform.settings.prod \
    VAR_DIR=/app/var \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic with the settings the container runs: the same STATIC_ROOT (/app/staticfiles,
# outside var/) and the manifest of hashed names prod's storage reads; the key only lets prod
# settings load. The collected files stay root-owned and read-only. var/ is emptied of what
# the settings created at import and var/media made for the app user, so a fresh volume
# mounted there (docker-compose.yml) starts out owned by it.
RUN useradd --system --create-home --uid 10001 app \
    && SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789abcdefgh \
       python manage.py collectstatic --noinput \
    && rm -rf /app/var \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var

USER app
EXPOSE 8000
# /health/live answers whatever the Host header (taskplatform.health.ProbeMiddleware), so
# ALLOWED_HOSTS need not list 127.0.0.1
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os,sys,urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=4).status != 200)"
CMD ["gunicorn", "taskplatform.wsgi", "-c", "gunicorn.conf.py"]
