using System;
using System.Collections.Generic;
using System.Globalization;

namespace Xo.Tracker
{
    /// <summary>
    /// What the order contains, parsed from the library's normalised JSON
    /// (`price`, `virtual_price`, `is_free`, `items`).
    /// </summary>
    public sealed class OrderContents
    {
        private OrderContents()
        {
        }

        /// <summary>The real-money price, or null (virtual-currency or free orders).</summary>
        public Price Price { get; private set; }

        /// <summary>The virtual-currency price, or null.</summary>
        public Price VirtualPrice { get; private set; }

        /// <summary>True for a free order.</summary>
        public bool IsFree { get; private set; }

        /// <summary>The items of the order (never null).</summary>
        public IReadOnlyList<OrderItem> Items { get; private set; }

        /// <summary>Parses contents JSON, or returns null if it is not JSON.</summary>
        public static OrderContents TryParse(string json)
        {
            try
            {
                return Parse(json);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        /// <summary>Parses contents JSON; tolerates the type drift of Xsolla's answers.</summary>
        /// <exception cref="FormatException">not JSON.</exception>
        public static OrderContents Parse(string json)
        {
            var root = Json.Parse(json) as Dictionary<string, object>;
            var contents = new OrderContents { Items = new OrderItem[0] };
            if (root == null)
                return contents;
            contents.Price = Price.From(Json.Get(root, "price"));
            contents.VirtualPrice = Price.From(Json.Get(root, "virtual_price"));
            contents.IsFree = Json.AsBool(Json.Get(root, "is_free"));
            var items = new List<OrderItem>();
            var array = Json.Get(root, "items") as List<object>;
            if (array != null)
            {
                foreach (var element in array)
                {
                    var item = element as Dictionary<string, object>;
                    if (item != null)
                        items.Add(OrderItem.From(item));
                }
            }
            contents.Items = items.AsReadOnly();
            return contents;
        }
    }

    /// <summary>One item of an order.</summary>
    public sealed class OrderItem
    {
        private OrderItem()
        {
        }

        /// <summary>The item's SKU.</summary>
        public string Sku { get; private set; }

        /// <summary>How many.</summary>
        public long Quantity { get; private set; }

        /// <summary>True for a free item.</summary>
        public bool IsFree { get; private set; }

        /// <summary>The real-money price, or null.</summary>
        public Price Price { get; private set; }

        /// <summary>The virtual-currency price, or null.</summary>
        public Price VirtualPrice { get; private set; }

        internal static OrderItem From(Dictionary<string, object> item)
        {
            long quantity;
            return new OrderItem
            {
                Sku = Json.AsString(Json.Get(item, "sku")) ?? "",
                Quantity = long.TryParse(Json.AsString(Json.Get(item, "quantity")), NumberStyles.Integer,
                    CultureInfo.InvariantCulture, out quantity) ? quantity : 0,
                IsFree = Json.AsBool(Json.Get(item, "is_free")),
                Price = Price.From(Json.Get(item, "price")),
                VirtualPrice = Price.From(Json.Get(item, "virtual_price")),
            };
        }

        public override string ToString()
        {
            return Quantity + " x " + Sku;
        }
    }

    /// <summary>An amount in a currency (real or virtual). Amounts stay decimal strings, as sent.</summary>
    public sealed class Price
    {
        private Price()
        {
        }

        /// <summary>The amount paid, as a decimal string ("30", "1.5").</summary>
        public string Amount { get; private set; }

        /// <summary>The amount before discount, as a decimal string ("" if absent).</summary>
        public string AmountWithoutDiscount { get; private set; }

        /// <summary>An ISO 4217 code, or a virtual currency SKU.</summary>
        public string Currency { get; private set; }

        /// <summary>Amount as a decimal (0 if it is not a number).</summary>
        public decimal AmountValue
        {
            get
            {
                decimal value;
                return decimal.TryParse(Amount, NumberStyles.Float, CultureInfo.InvariantCulture, out value) ? value : 0m;
            }
        }

        internal static Price From(object value)
        {
            var obj = value as Dictionary<string, object>;
            if (obj == null)
                return null;
            return new Price
            {
                Amount = Json.AsString(Json.Get(obj, "amount")) ?? "",
                AmountWithoutDiscount = Json.AsString(Json.Get(obj, "amount_without_discount")) ?? "",
                Currency = Json.AsString(Json.Get(obj, "currency")) ?? "",
            };
        }

        public override string ToString()
        {
            return Amount + " " + Currency;
        }
    }
}
