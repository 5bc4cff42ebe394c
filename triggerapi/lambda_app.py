"""The WSGI application Zappa's handler serves on Lambda (zappa_settings.json `app_function`,
beside `django_settings`): Django's, warmed up first when Lambda initialises for a SnapStart
snapshot (triggerapi/warmup.py). With INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT (the stages'
`aws_environment_variables`) Zappa's handler imports this module in the init itself."""

from django.core.wsgi import get_wsgi_application

from triggerapi import warmup

application = get_wsgi_application()

if warmup.wanted():
    warmup.warm(application)
