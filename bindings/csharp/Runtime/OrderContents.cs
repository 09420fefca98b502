using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Xo.Tracker
{
    /// <summary>
    /// What the order contains, copied from the library's typed contents (xo_contents), which the
    /// library normalises from Xsolla's answer (type drift, missing fields).
    /// </summary>
    public sealed class OrderContents
    {
        private static readonly OrderItem[] NoItems = new OrderItem[0];

        private OrderContents()
        {
        }

        /// <summary>The real-money price, or null (virtual-currency or free orders).</summary>
        public Price Price { get; private set; }

        /// <summary>The virtual-currency price, or null.</summary>
        public Price VirtualPrice { get; private set; }

        /// <summary>True for a free order.</summary>
        public bool IsFree { get; private set; }

        /// <summary>The items of the order (never null; at most 1000).</summary>
        public IReadOnlyList<OrderItem> Items { get; private set; }

        /// <summary>Copies a const xo_contents * (valid during the callback); null for NULL.</summary>
        internal static OrderContents FromNative(IntPtr ptr)
        {
            if (ptr == IntPtr.Zero)
                return null;
            var c = NativeStruct.Read<NativeMethods.xo_contents>(ptr);
            var count = c.items == IntPtr.Zero ? 0 : (int)Math.Min(c.item_count, (uint)NativeMethods.XO_MAX_ITEMS);
            var items = count == 0 ? NoItems : new OrderItem[count];
            var itemSize = Marshal.SizeOf(typeof(NativeMethods.xo_item));
            for (var i = 0; i < count; i++)
            {
                var item = (NativeMethods.xo_item)Marshal.PtrToStructure(IntPtr.Add(c.items, i * itemSize), typeof(NativeMethods.xo_item));
                items[i] = new OrderItem(Utf8.FromNative(item.sku) ?? "", item.quantity, item.is_free != 0,
                    Price.FromNative(item.price), Price.FromNative(item.virtual_price));
            }
            return new OrderContents
            {
                Price = Price.FromNative(c.price),
                VirtualPrice = Price.FromNative(c.virtual_price),
                IsFree = c.is_free != 0,
                Items = Array.AsReadOnly(items),
            };
        }
    }

    /// <summary>One item of an order.</summary>
    public sealed class OrderItem
    {
        internal OrderItem(string sku, long quantity, bool isFree, Price price, Price virtualPrice)
        {
            Sku = sku;
            Quantity = quantity;
            IsFree = isFree;
            Price = price;
            VirtualPrice = virtualPrice;
        }

        /// <summary>The item's SKU ("" if absent).</summary>
        public string Sku { get; private set; }

        /// <summary>How many (0 if absent or not an integer).</summary>
        public long Quantity { get; private set; }

        /// <summary>True for a free item.</summary>
        public bool IsFree { get; private set; }

        /// <summary>The real-money price, or null.</summary>
        public Price Price { get; private set; }

        /// <summary>The virtual-currency price, or null.</summary>
        public Price VirtualPrice { get; private set; }

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

        /// <summary>The amount paid, as a decimal string ("30", "1.5"; "" if absent).</summary>
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

        /// <summary>Copies a const xo_price *; null for NULL.</summary>
        internal static Price FromNative(IntPtr ptr)
        {
            if (ptr == IntPtr.Zero)
                return null;
            var p = (NativeMethods.xo_price)Marshal.PtrToStructure(ptr, typeof(NativeMethods.xo_price));
            return new Price
            {
                Amount = Utf8.FromNative(p.amount) ?? "",
                AmountWithoutDiscount = Utf8.FromNative(p.amount_without_discount) ?? "",
                Currency = Utf8.FromNative(p.currency) ?? "",
            };
        }

        public override string ToString()
        {
            return Amount + " " + Currency;
        }
    }
}
