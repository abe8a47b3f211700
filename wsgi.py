"""What gunicorn serves: `gunicorn wsgi:app`."""

from config import selected_config
from dispatch import create_app

app = create_app(selected_config())
