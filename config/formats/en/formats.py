# Dates and times as the console shows them: unambiguous, sortable, with the zone
# (TIME_ZONE) they are in, so an operator in another zone is never misled.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"

# Dates and times are typed as they are shown, year first: "05/12/2026" is refused
# rather than read as May 12 (or December 5), and the inputs say the format.
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
