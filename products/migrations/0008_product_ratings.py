"""Products keep the count and rating sum of their approved reviews (the list's rating_average and
review_count); filled here from the reviews already written. Adding the columns with a constant
default is a catalog change on PostgreSQL (no table rewrite); the fill is one UPDATE of the products
that have approved reviews."""

from django.db import migrations, models
from django.db.models import Count, F, OuterRef, Subquery, Sum, Value

APPROVED = "APPROVED"


def ratings_fill(apps, schema_editor):
    Product = apps.get_model("products", "Product")
    Review = apps.get_model("products", "Review")
    approved = Review.objects.filter(product=OuterRef("pk"), status=APPROVED).order_by().values("product")
    Product.objects.filter(pk__in=Review.objects.filter(status=APPROVED).values("product")).update(
        review_count=Subquery(approved.annotate(n=Count("id")).values("n")),
        rating_total=Subquery(approved.annotate(total=Sum("rating")).values("total")),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0007_category_paths_and_search_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="rating_total",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="product",
            name="review_count",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        # Before the fill: the rows are all 0 and 0 then, and the fill keeps it true.
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(rating_total__gte=F("review_count"), rating_total__lte=F("review_count") * Value(5)),
                name="products_rating_total_in_range",
            ),
        ),
        migrations.RunPython(ratings_fill, migrations.RunPython.noop, elidable=True),
    ]
