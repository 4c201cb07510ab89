from typing import Any

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from flows.canvas import canvas_data

register = template.Library()


@register.simple_tag
def flow_canvas_data(flow: Any) -> SafeString:
    """The saved flow's problems by step and its layout, as JSON for
    flows/canvas.js."""
    return json_script(canvas_data(flow), "flow-canvas-data")
