# Dates and times as the console shows them: unambiguous, sortable, with the zone
# (TIME_ZONE) they are in, so an operator in another zone is never misled.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
