"""Google Analytics 4 traffic export (Explorations / reports CSV) into ``traffic``: GA4 writes
``#`` comment lines above the header and dates as YYYYMMDD."""

from ._base import Field, Source

GA4 = Source("ga4-traffic", "traffic", "GA4 traffic export (Date, Session default channel group or Session source / "
             "medium, Sessions, Total users, Average engagement time per session, Engaged sessions)", (
                 Field("date", ("Date", "date"), "date"),
                 Field("channel", ("Session source / medium", "Session default channel group"), "text"),
                 Field("sessions", ("Sessions",), "number"),
                 Field("users", ("Total users", "Users"), "number", required=False),
                 Field("avg_session_seconds", ("Average engagement time per session",), "number", required=False),
                 Field("engaged_sessions", ("Engaged sessions",), "number", required=False),
             ))
