"""Web pages for people: log in with a cookie session, a school's orders live, a teacher's offers live.

Indonesian first (Flask-Babel, default locale `id`), small screens and slow networks: one
small stylesheet inline, one vendored script (the Socket.IO client, served from here), no
asset from the internet.
"""
