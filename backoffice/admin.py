from django.contrib import admin

admin.site.site_header = "C4ang staff"
admin.site.site_title = "C4ang staff"
admin.site.index_title = "Shop administration"
# The index links to the dashboard.
admin.site.index_template = "admin/backoffice/index.html"
