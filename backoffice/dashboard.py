"""The staff dashboard: what staff would rather see than read, on one admin page."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from backoffice.charts import bar_chart
from backoffice.jobs import JOB_TRIGGERS, STARTABLE_JOBS, JobQueueUnavailable, job_name, job_start_now
from c4ang.admin_display import krw
from c4ang.jobs import job_run_latest
from orders import selectors as order_selectors
from orders.constants import ReturnStatus
from payments import selectors as payment_selectors
from payments.constants import PaymentMethod
from products import selectors as product_selectors
from saga import selectors as saga_selectors
from saga.constants import SagaStatus
from sentiment import selectors as sentiment_selectors

DASHBOARD_DAYS = 30
SAGA_OUTCOMES = (
    SagaStatus.COMPLETED,
    SagaStatus.COMPENSATED,
    SagaStatus.FAILED,
    SagaStatus.COMPENSATING,
    SagaStatus.STARTED,
)


def orders_count(count: int) -> str:
    return ngettext("%(count)d order", "%(count)d orders", count) % {"count": count}


def dashboard_view(request):
    today = timezone.localdate()
    days = [today - timedelta(days=offset) for offset in reversed(range(DASHBOARD_DAYS))]
    since = timezone.make_aware(datetime.combine(days[0], time.min))

    totals = order_selectors.order_daily_totals(since=since)
    empty_day = {"placed": 0, "paid": 0, "revenue": 0}
    per_day = [(day, totals.get(day, empty_day)) for day in days]
    # The shop's days (KST, timezone.localdate), as month-day along the axis.
    orders_chart = bar_chart([(f"{day:%m-%d}", row["placed"], orders_count(row["placed"])) for day, row in per_day])
    revenue_chart = bar_chart([(f"{day:%m-%d}", float(row["revenue"]), krw(row["revenue"])) for day, row in per_day])

    by_method = order_selectors.order_totals_by_method(since=since)
    empty_method = {"placed": 0, "paid": 0, "waiting": 0, "revenue": 0}
    method_rows = []
    for method in PaymentMethod:
        row = by_method.get(method.value, empty_method)
        method_rows.append({**row, "label": method.label, "revenue": krw(row["revenue"])})
    saga_counts = saga_selectors.saga_outcome_counts(since=since)
    refunds = payment_selectors.refund_daily_totals(since=since)
    refunds_per_day = [(day, refunds.get(day, {"count": 0, "amount": 0})) for day in days]
    open_returns = order_selectors.return_open_counts()
    declines = payment_selectors.payment_decline_counts(since=since)
    most_reviewed = product_selectors.product_most_reviewed(limit=10)
    sentiments = sentiment_selectors.sentiment_for_products(product_ids=[row["id"] for row in most_reviewed])

    returns_url = reverse("admin:orders_return_changelist")
    window = {"days": DASHBOARD_DAYS}
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "days": DASHBOARD_DAYS,
        "tiles": [
            (_("Orders today"), f"{totals.get(today, empty_day)['placed']:,}"),
            (_("Revenue, %(days)d days") % window, krw(sum(row["revenue"] for _day, row in per_day))),
            (_("Paid orders, %(days)d days") % window, f"{sum(row['paid'] for _day, row in per_day):,}"),
            (_("Sagas compensated, %(days)d days") % window, f"{saga_counts.get(SagaStatus.COMPENSATED, 0):,}"),
        ],
        "orders_chart": orders_chart,
        "revenue_chart": revenue_chart,
        "method_rows": method_rows,
        "method_chart": bar_chart(
            [(row["label"], row["placed"], orders_count(row["placed"])) for row in method_rows], width=360
        ),
        "saga_chart": bar_chart(
            [
                (SagaStatus(status).label, saga_counts.get(status, 0), f"{saga_counts.get(status, 0):,}")
                for status in SAGA_OUTCOMES
            ],
            width=360,
        ),
        "decline_chart": bar_chart(
            [
                (row["failure_code"] or pgettext("payment decline code", "(none)"), row["count"], f"{row['count']:,}")
                for row in declines[:8]
            ],
            width=360,
        ),
        "refunds_chart": bar_chart(
            [
                (
                    f"{day:%m-%d}",
                    float(row["amount"]),
                    ngettext("%(amount)s (%(count)d refund)", "%(amount)s (%(count)d refunds)", row["count"])
                    % {"amount": krw(row["amount"]), "count": row["count"]},
                )
                for day, row in refunds_per_day
            ]
        ),
        "refunds_total": krw(sum(row["amount"] for _day, row in refunds_per_day)),
        "refunds_count": sum(row["count"] for _day, row in refunds_per_day),
        "open_returns": [
            (ReturnStatus(status).label, count, f"{returns_url}?status__exact={status}")
            for status, count in open_returns.items()
        ],
        "low_stock": product_selectors.product_low_stock(threshold=settings.C4ANG_LOW_STOCK_THRESHOLD, limit=10),
        "low_stock_threshold": settings.C4ANG_LOW_STOCK_THRESHOLD,
        "job_runs": [
            {
                "run": run,
                "job": job_name(run.job),
                "status": run.get_status_display(),
                "trigger": JOB_TRIGGERS.get(run.trigger, run.trigger),
            }
            for run in job_run_latest(limit=8)
        ],
        "startable_jobs": [(job, job_name(job)) for job in STARTABLE_JOBS],
        "sentiment_rows": [{**row, "sentiment": sentiments.get(row["id"])} for row in most_reviewed],
    }
    return TemplateResponse(request, "admin/backoffice/dashboard.html", context)


@require_POST
def job_start_view(request, job: str):
    """Staff's "run now" for a batch job, from the dashboard."""
    if job not in STARTABLE_JOBS:
        raise Http404(f"No job {job}")
    try:
        started = job_start_now(job=job)
    except JobQueueUnavailable as error:
        messages.error(request, f"{job_name(job)}: {error.message}")
    else:
        messages.success(
            request,
            _("%(job)s: %(started)s. Its run appears under the latest job runs.")
            % {"job": job_name(job), "started": started},
        )
    return redirect("admin-dashboard")
