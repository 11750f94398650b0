"""Fill the shop with a realistic Korean demo catalog, customers, reviews and a staff login."""

import io
import random
import zlib
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from PIL import Image, ImageColor, ImageDraw
from tqdm import tqdm

from c4ang import demo
from c4ang.actors import Actor
from c4ang.errors import DomainError
from customers import selectors as customer_selectors
from customers import services as customer_services
from orders import services as order_services
from orders.constants import OrderStatus
from payments.constants import Bank, PaymentMethod
from products import selectors as product_selectors
from products import services as product_services

# Published demo logins: the command refuses to run in production.
DEMO_PASSWORD = "shopping-in-seoul-2026"  # noqa: S105
STAFF_EMAIL = "staff@c4ang.com"
STAFF_PASSWORD = "c4ang-staff-1234"  # noqa: S105
BATCH = 5000
# This many products get enough recent reviews (>= 100) for the weekly sentiment job to pick them.
POPULAR_PRODUCTS = 12
HISTORY_DAYS = 60
# Of the demo orders, this share is paid by virtual account (가상계좌); the rest by card.
VIRTUAL_ACCOUNT_SHARE = 0.15
CARTS = 25
# The first products get a picture drawn here (each through the upload service, with its sizes):
# enough to fill the first list pages, few enough that `make run` stays quick (about 20 ms each).
PICTURES = 40
PICTURE_SIDE = 480
DEMO_DATA = Actor.system("seed_demo_data")
DECLINE_CODES = [
    "REJECT_CARD_PAYMENT",
    "EXCEED_MAX_DAILY_PAYMENT_COUNT",
    "INVALID_CARD_EXPIRATION",
    "NOT_ENOUGH_BALANCE",
]


class Command(BaseCommand):
    help = (
        "Create demo data: categories, brands and products priced in KRW, customers with their "
        "addresses, Korean reviews (a dozen popular products with 100+ recent reviews each), orders by "
        "card and by virtual account, some carts, and a staff login. Bulk inserts: --products 100000 "
        "takes seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=300, help="number of products (default 300)")
        parser.add_argument("--customers", type=int, default=200, help="number of customers (default 200)")
        parser.add_argument("--reviews", type=int, default=5, help="most reviews of an ordinary product (default 5)")
        parser.add_argument(
            "--orders",
            type=int,
            default=300,
            help=f"orders placed through the saga over the last {HISTORY_DAYS} days (default 300)",
        )
        parser.add_argument(
            "--images",
            type=int,
            default=PICTURES,
            help=f"the first N products get a drawn picture (default {PICTURES})",
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed: the same seed gives the same data")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when products already exist")
        parser.add_argument(
            "--run-jobs",
            action="store_true",
            help="then run the recommendation and sentiment jobs once, so that their results show at once",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                _("seed_demo_data creates published demo logins; it never runs with C4ANG_ENV=production")
            )
        for name in ("products", "customers", "reviews", "orders", "images"):
            if options[name] < 0:
                raise CommandError(
                    _("--%(option)s must be zero or more, got %(value)d") % {"option": name, "value": options[name]}
                )
        if options["if_empty"] and product_selectors.product_list_public().exists():
            self.stdout.write(_("Demo data already present; nothing to do."))
            return
        rng = random.Random(options["seed"])
        quiet = options["verbosity"] == 0

        customer_services.staff_ensure(email=STAFF_EMAIL, password=STAFF_PASSWORD, superuser=True)
        # A run on top of earlier data numbers its customers after the existing ones.
        first = customer_selectors.customer_count() + 1
        customers = customer_services.customer_bulk_import(
            people=[
                {
                    "email": f"demo{n}@c4ang.com",
                    "name": f"데모고객{n}",
                    "phone": f"010-{rng.randint(1000, 9999)}-{n % 10000:04d}",
                }
                for n in range(first, first + options["customers"])
            ],
            password=DEMO_PASSWORD,
        )

        products = []
        with tqdm(
            total=options["products"],
            desc=pgettext("progress bar", "products"),
            unit=pgettext("progress bar", " rows"),
            disable=quiet,
        ) as bar:
            for start in range(0, options["products"], BATCH):
                count = min(BATCH, options["products"] - start)
                specs = [demo.demo_product(rng) for _n in range(count)]
                products += product_services.product_bulk_import(products=[vars(spec) for spec in specs])
                bar.update(count)

        # A generator of its own: the pictures leave the rest of the data as the seed has always made it.
        pictures = random.Random(f"pictures-{options['seed']}")
        pictured = self._draw_pictures(pictures, products[: options["images"]], quiet)

        reviews = []
        for index, product in enumerate(
            tqdm(
                products,
                desc=pgettext("progress bar", "reviews"),
                unit=pgettext("progress bar", " products"),
                disable=quiet,
            )
        ):
            wanted = rng.randint(100, 140) if index < POPULAR_PRODUCTS else rng.randint(0, options["reviews"])
            for reviewer in rng.sample(customers, min(len(customers), wanted)):
                review = demo.demo_review(rng)
                reviews.append(
                    {
                        "product_id": product.id,
                        "customer_id": reviewer.id,
                        "rating": review.rating,
                        "content": review.content,
                    }
                )
        review_count = product_services.review_bulk_import(reviews=reviews)
        addresses = self._address_book(rng, customers, quiet)
        in_stock = [product for product in products if product.stock > 0]
        paid = self._place_orders(rng, customers, addresses, in_stock, options["orders"], quiet)
        carts = self._fill_carts(rng, customers, in_stock)

        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Created %(products)d products (%(pictured)d with a picture), %(customers)d customers with "
                    "their addresses, %(reviews)d reviews, %(orders)d orders (%(paid)d paid), %(carts)d carts. "
                    "Staff login: %(staff_email)s / %(staff_password)s; customers: %(first_customer)s … / "
                    "%(customer_password)s"
                )
                % {
                    "products": len(products),
                    "pictured": pictured,
                    "customers": len(customers),
                    "reviews": review_count,
                    "orders": options["orders"],
                    "paid": paid,
                    "carts": carts,
                    "staff_email": STAFF_EMAIL,
                    "staff_password": STAFF_PASSWORD,
                    "first_customer": f"demo{first}@c4ang.com",
                    "customer_password": DEMO_PASSWORD,
                }
            )
        )
        if options["run_jobs"]:
            # The commands themselves: the same progress bars and run reports as when ops run them.
            for job in ("run_recommendations", "run_sentiment"):
                call_command(job, verbosity=options["verbosity"], stdout=self.stdout, stderr=self.stderr)

    def _draw_pictures(self, rng: random.Random, products, quiet: bool) -> int:
        """A drawn product shot for each product, uploaded as staff upload one; returns how many."""
        for product in tqdm(
            products,
            desc=pgettext("progress bar", "pictures"),
            unit=pgettext("progress bar", " products"),
            disable=quiet,
        ):
            picture = io.BytesIO(_product_picture(rng, category=product.category.name))
            product_services.product_image_upload(product_id=product.id, image=picture, alt_text=product.name)
        return len(products)

    def _address_book(self, rng: random.Random, customers, quiet: bool) -> dict:
        """Every customer gets a home address (the default), a third an office too; returns the
        default address id of each customer."""
        defaults = {}
        for customer in tqdm(
            customers,
            desc=pgettext("progress bar", "addresses"),
            unit=pgettext("progress bar", " customers"),
            disable=quiet,
        ):
            labels = ["집", "회사"] if rng.random() < 0.33 else ["집"]
            for label in labels:
                address = demo.demo_address(rng, label=label)
                created = customer_services.address_create(
                    customer_id=customer.id,
                    label=label,
                    recipient=customer.name,
                    phone=customer.phone,
                    postal_code=address.postal_code,
                    road_address=address.road_address,
                    detail=address.detail,
                )
                defaults.setdefault(customer.id, created.id)
        return defaults

    def _fill_carts(self, rng: random.Random, customers, products) -> int:
        """Some customers left lines in their carts; returns how many carts."""
        shoppers = rng.sample(customers, min(len(customers), CARTS)) if products else []
        for customer in shoppers:
            for product in rng.sample(products, min(len(products), rng.randint(1, 3))):
                order_services.cart_add(customer_id=customer.id, product_id=product.id, quantity=rng.randint(1, 2))
        return len(shoppers)

    def _place_orders(self, rng: random.Random, customers, addresses: dict, products, count: int, quiet: bool) -> int:
        """Orders through the real saga to the customers' default addresses, by card (some declined)
        and by virtual account (deposited; the first one still awaiting its deposit), some shipped or
        delivered, spread over past days."""
        if not customers or not products:
            return 0
        now = timezone.now()
        paid = 0
        yesterday = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=1), time.min))
        for index in tqdm(
            range(count),
            desc=pgettext("progress bar", "orders"),
            unit=pgettext("progress bar", " orders"),
            disable=quiet,
        ):
            lines = [
                order_services.OrderLine(product_id=product.id, quantity=rng.randint(1, 2))
                for product in rng.sample(products, min(len(products), rng.randint(1, 3)))
            ]
            awaiting_deposit = index == 0
            if awaiting_deposit or rng.random() < VIRTUAL_ACCOUNT_SHARE:
                method, bank = PaymentMethod.VIRTUAL_ACCOUNT, rng.choice(Bank.values)
                token = "tok_va_deposit_later" if awaiting_deposit else "tok_va_deposit_now"
            else:
                method, bank = PaymentMethod.CARD, None
                token = f"tok_decline_{rng.choice(DECLINE_CODES)}" if rng.random() < 0.08 else "tok_approve"
            customer = rng.choice(customers)
            try:
                order, _replayed = order_services.order_place(
                    customer_id=customer.id,
                    lines=lines,
                    address_id=addresses[customer.id],
                    delivery_memo=rng.choice(demo.DELIVERY_MEMOS),
                    payment_method=method,
                    bank=bank,
                    payment_token=token,
                )
            except DomainError:
                continue  # e.g. a product sold out by earlier demo orders
            if awaiting_deposit:
                continue  # placed now, not in the past: its account stays open until its due date
            if order.status == OrderStatus.PAID:
                paid += 1
                for next_status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
                    if rng.random() < 0.5:
                        break
                    if next_status == OrderStatus.SHIPPED:
                        # A tracking number of the carrier's length, unique by the order number's digits.
                        order_services.order_ship(
                            order_id=order.id,
                            carrier=("kr.cjlogistics", "kr.lotte", "kr.hanjin")[index % 3],
                            tracking_number=order.order_number.replace("-", "")[-12:],
                            by=DEMO_DATA,
                        )
                    else:
                        order_services.order_mark_delivered(order_id=order.id, by=DEMO_DATA)
            placed_at = now - timedelta(days=rng.randrange(HISTORY_DAYS), minutes=rng.randrange(24 * 60))
            if index % 20 == 0:
                # Some orders yesterday (shop time): the daily recommendation job needs yesterday's purchases.
                placed_at = yesterday + timedelta(minutes=rng.randrange(24 * 60))
            order_services.order_backdate_for_demo(order_id=order.id, placed_at=placed_at)
        return paid


def _product_picture(rng: random.Random, *, category: str) -> bytes:
    """A JPEG of an object on a soft backdrop in its category's colour: a box, a bottle or a round thing."""
    hue = zlib.crc32(category.encode()) % 360
    side = PICTURE_SIDE
    image = Image.new("RGB", (side, side), ImageColor.getrgb(f"hsl({hue}, 35%, 93%)"))
    draw = ImageDraw.Draw(image)
    body = ImageColor.getrgb(
        f"hsl({(hue + rng.randint(-25, 25)) % 360}, {rng.randint(45, 70)}%, {rng.randint(40, 60)}%)"
    )
    accent = ImageColor.getrgb(f"hsl({(hue + 180) % 360}, 60%, 65%)")
    draw.ellipse((side * 0.2, side * 0.78, side * 0.8, side * 0.88), fill=ImageColor.getrgb(f"hsl({hue}, 20%, 80%)"))
    shape = rng.choice(("box", "bottle", "round"))
    if shape == "box":
        draw.rounded_rectangle((side * 0.25, side * 0.25, side * 0.75, side * 0.82), radius=side // 16, fill=body)
        draw.rectangle((side * 0.25, side * 0.45, side * 0.75, side * 0.52), fill=accent)
    elif shape == "bottle":
        draw.rounded_rectangle((side * 0.44, side * 0.12, side * 0.56, side * 0.3), radius=side // 40, fill=accent)
        draw.rounded_rectangle((side * 0.33, side * 0.28, side * 0.67, side * 0.82), radius=side // 10, fill=body)
    else:
        draw.ellipse((side * 0.22, side * 0.2, side * 0.78, side * 0.76), fill=body)
        draw.ellipse((side * 0.4, side * 0.32, side * 0.52, side * 0.44), fill=accent)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
