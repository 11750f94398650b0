"""Fill the shop with a realistic Korean demo catalog, customers, reviews and a staff login."""

import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from c4ang import demo
from customers import selectors as customer_selectors
from customers import services as customer_services
from products import selectors as product_selectors
from products import services as product_services

# Published demo logins: the command refuses to run in production.
DEMO_PASSWORD = "shopping-in-seoul-2026"  # noqa: S105
STAFF_EMAIL = "staff@c4ang.com"
STAFF_PASSWORD = "c4ang-staff-1234"  # noqa: S105


class Command(BaseCommand):
    help = "Create demo data: categories, products (KRW), customers, Korean reviews and a staff account."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200, help="number of products (default 200)")
        parser.add_argument("--customers", type=int, default=50, help="number of customers (default 50)")
        parser.add_argument("--reviews", type=int, default=20, help="most reviews per product (default 20)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same data)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when products already exist")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo_data creates published demo logins; it never runs with C4ANG_ENV=production")
        for name in ("products", "customers", "reviews"):
            if options[name] < 0:
                raise CommandError(f"--{name} must be zero or more, got {options[name]}")
        if options["if_empty"] and product_selectors.product_list_public().exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        rng = random.Random(options["seed"])
        progress = {"disable": options["verbosity"] == 0, "unit": " rows"}

        customer_services.staff_ensure(email=STAFF_EMAIL, password=STAFF_PASSWORD, superuser=True)
        customers = []
        for number in tqdm(range(1, options["customers"] + 1), desc="customers", **progress):
            email = f"demo{number}@c4ang.com"
            if customer_selectors.customer_exists(email=email):
                continue
            customers.append(
                customer_services.customer_register(
                    email=email,
                    password=DEMO_PASSWORD,
                    name=f"데모고객{number}",
                    phone=f"010-{rng.randint(1000, 9999)}-{number:04d}",
                )
            )

        review_count = 0
        for _ in tqdm(range(options["products"]), desc="products", **progress):
            spec = demo.demo_product(rng)
            product = product_services.product_create(
                name=spec.name,
                category=product_services.category_get_or_create(name=spec.category),
                brand=spec.brand,
                price=spec.price,
                stock=spec.stock,
            )
            for reviewer in rng.sample(customers, min(len(customers), rng.randint(0, options["reviews"]))):
                review = demo.demo_review(rng)
                product_services.review_create(
                    product_id=product.id, customer_id=reviewer.id, rating=review.rating, content=review.content
                )
                review_count += 1

        self.stdout.write(
            self.style.SUCCESS(
                f"Created {options['products']} products, {len(customers)} customers, {review_count} reviews. "
                f"Staff login: {STAFF_EMAIL} / {STAFF_PASSWORD}; customer logins: demoN@c4ang.com / {DEMO_PASSWORD}"
            )
        )
