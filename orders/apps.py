from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        # The modules below orders hear from it through the hooks they offer, never by importing it.
        from orders import (
            place_order,  # noqa: F401 - registers the place-order saga with the engine
            selectors,
            services,
        )
        from payments import hooks as payment_hooks
        from products import hooks as product_hooks

        payment_hooks.order_handlers_register(
            payment_hooks.OrderHandlers(
                pay=services.order_pay,
                payment_changed=services.order_payment_changed,
                refund=services.order_refund,
                order_id_for_number=selectors.order_id_for_number,
                refunded=services.order_refunded_amount_sync,
            )
        )
        product_hooks.purchase_check_register(selectors.customer_has_bought)
        # --- account deletion asks orders for open orders, and empties the cart ---
        from customers import hooks as customer_hooks

        customer_hooks.open_orders_check_register(selectors.customer_has_open_orders)
        customer_hooks.personal_data_eraser_register(services.cart_clear)
