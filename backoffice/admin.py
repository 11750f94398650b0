from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("C4ang staff")
admin.site.site_title = _("C4ang staff")
admin.site.index_title = _("Shop administration")
# The index links to the dashboard.
admin.site.index_template = "admin/backoffice/index.html"
