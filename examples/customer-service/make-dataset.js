// The customer-service dataset of the worked example: questions and answers for Brightleaf, a
// fictional online shop of home goods. Every fact (prices, days, policies, addresses) is stated once
// in FACTS and every answer is written from it, so the answers never disagree. Each intent (one
// thing a customer wants to know) has one answer and nine hand-written phrasings of its question:
// five for training, two held out for the quality figure (never trained on), and two more for the
// feedback round (asked on the chat page, corrected where wrong, then trained on).
//
// Run: node examples/customer-service/make-dataset.js [--out DIR]   (default runs/cs/data)
// Writes, in OpenAI's chat format (one {"messages": [...]} per line):
//   train.jsonl      the training pairs (5 per intent)
//   heldout.jsonl    unseen phrasings (2 per intent), each with `expect`: a short string the answer must contain
//   feedback.jsonl   the phrasings of the feedback round (2 per intent), with `expect` too
//   corpus.txt       text for pre-training a base model: the shop's handbook and the training conversations
// The output depends on nothing but this file: the same bytes on every run.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MORE } from './phrasings.js';

/** The shop's facts. Answers quote these values; the test checks no other amount or period appears. */
export const FACTS = {
  shop: 'Brightleaf',
  standardDays: '3 to 5 business days',
  standardPrice: '$4.99',
  freeShippingOver: '$50',
  expressDays: '1 to 2 business days',
  expressPrice: '$12.99',
  internationalDays: '7 to 14 business days',
  internationalPrice: '$19.99',
  countries: '30 countries',
  cutoff: '2 pm Eastern',
  returnWindow: '30 days',
  refundDays: '5 to 7 business days',
  damagedWindow: '7 days',
  lateDays: '3 business days',
  cancelWindow: '1 hour',
  resetLinkValid: '24 hours',
  lockAttempts: '5 failed sign-in attempts',
  lockTime: '15 minutes',
  deleteWithin: '30 days',
  bulkUnits: '20 units',
  giftCardRange: '$25 to $500',
  giftWrap: '$5 per item',
  priceMatchDays: '14 days',
  warranty: '1-year warranty',
  klarnaPayments: '4 interest-free payments',
  klarnaMinimum: '$35',
  rewardsEarn: '1 point per dollar',
  rewardsRedeem: '100 points',
  rewardsValue: '$5 off',
  studentDiscount: '10%',
  newsletterDiscount: '15%',
  phone: '1-800-555-0199',
  email: 'help@brightleaf.example',
  privacyEmail: 'privacy@brightleaf.example',
  businessEmail: 'business@brightleaf.example',
  weekdayHours: 'Monday to Friday, 8 am to 8 pm',
  saturdayHours: 'Saturday, 9 am to 5 pm',
  duvetPrice: '$89',
  mugsPrice: '$24',
  throwPrice: '$65',
  boardPrice: '$19',
  candlePrice: '$14',
  towelsPrice: '$39',
  lampPrice: '$79',
  rugPrice: '$149',
};

const F = FACTS;

/**
 * The intents: [id, topic, answer, expected fact, nine phrasings of the question (5 train, 2 held
 * out, 2 feedback)]. The expected fact is what a right answer must state.
 */
/** @type {[id: string, topic: string, answer: string, expect: string, questions: string[]][]} */
const INTENTS = [
  // ---- shipping ----
  [
    'shipping-options',
    'shipping',
    `We offer standard shipping (${F.standardDays}, ${F.standardPrice}) and express shipping (${F.expressDays}, ${F.expressPrice}).`,
    'express shipping',
    [
      'What shipping options do you have?',
      'Which delivery methods can I choose from?',
      'What are my shipping choices?',
      'Do you have different shipping speeds?',
      'What kinds of delivery do you offer?',
      'Which shipping methods are available at checkout?',
      'Can I pick how my order is shipped?',
      'what delivery options are there',
      'Tell me about your shipping methods.',
    ],
  ],
  [
    'standard-shipping',
    'shipping',
    `Standard shipping takes ${F.standardDays} and costs ${F.standardPrice}; orders over ${F.freeShippingOver} ship free.`,
    F.standardDays,
    [
      'How long does standard shipping take?',
      'How many days until my order arrives with standard shipping?',
      'What is the delivery time for standard shipping?',
      'How much is standard shipping?',
      'When will my package arrive if I choose standard delivery?',
      'How quickly does regular shipping get to me?',
      'How long will normal delivery take?',
      'standard shipping how many days',
      'What does standard delivery cost and how long is it?',
    ],
  ],
  [
    'free-shipping',
    'shipping',
    `Shipping is free on orders over ${F.freeShippingOver} with standard shipping.`,
    F.freeShippingOver,
    [
      'Do you offer free shipping?',
      'Is shipping ever free?',
      'How much do I need to spend for free shipping?',
      'What is the minimum order for free delivery?',
      'Can I get free shipping on my order?',
      'When does shipping become free?',
      'Is there a threshold for free shipping?',
      'free delivery over what amount',
      'How do I qualify for free shipping?',
    ],
  ],
  [
    'express-shipping',
    'shipping',
    `Express shipping arrives in ${F.expressDays} and costs ${F.expressPrice}.`,
    F.expressPrice,
    [
      'How much is express shipping?',
      'What does express delivery cost?',
      'How fast is express shipping?',
      'Can I get my order faster?',
      'Do you have a quicker shipping option?',
      'What is the price of express shipping?',
      'I need it quickly, is there faster delivery?',
      'express shipping price',
      'How many days does express take?',
    ],
  ],
  [
    'international-shipping',
    'shipping',
    `We ship to ${F.countries}. International shipping costs ${F.internationalPrice} and takes ${F.internationalDays}.`,
    F.countries,
    [
      'Do you ship internationally?',
      'Can you deliver outside the United States?',
      'Do you ship to other countries?',
      'How much is international shipping?',
      'Can I order from abroad?',
      'Do you deliver to Canada or Europe?',
      'Is overseas shipping available?',
      'international delivery cost',
      'I live outside the US, can you send my order to me?',
    ],
  ],
  [
    'same-day-dispatch',
    'shipping',
    `Orders placed before ${F.cutoff} on a business day ship the same day.`,
    '2 pm',
    [
      'When will my order be shipped?',
      'Do orders ship the same day?',
      'What is the cutoff time for same-day shipping?',
      'How soon after ordering do you send the package?',
      'If I order this morning, when does it leave the warehouse?',
      'By what time must I order for it to go out today?',
      'How long before my order is dispatched?',
      'same day dispatch cutoff',
      'When do you send out orders?',
    ],
  ],
  [
    'po-box',
    'shipping',
    'Yes, we deliver to PO boxes with standard shipping only.',
    'PO box',
    [
      'Do you ship to PO boxes?',
      'Can I use a PO box as my delivery address?',
      'Will you deliver to a post office box?',
      'Is a PO box address okay for shipping?',
      'Can my order go to a PO box?',
      'Are PO box addresses accepted?',
      'Could you send my package to my post office box?',
      'po box delivery',
      'Is it possible to ship to a P.O. box?',
    ],
  ],
  [
    'weekend-delivery',
    'shipping',
    'Our carriers deliver Monday to Saturday; there is no delivery on Sundays.',
    'Sunday',
    [
      'Do you deliver on weekends?',
      'Can my package arrive on a Saturday?',
      'Is there Sunday delivery?',
      'Which days of the week do you deliver?',
      'Will the courier come on the weekend?',
      'Do deliveries happen on Sundays?',
      'Can I get delivery on a Saturday or Sunday?',
      'weekend delivery',
      'What days do packages get delivered?',
    ],
  ],
  [
    'change-address',
    'shipping',
    'You can change the delivery address until the order ships: open My Orders and choose Edit address.',
    'Edit address',
    [
      'How do I change my shipping address?',
      'I entered the wrong address, can I fix it?',
      'Can I update the delivery address on my order?',
      'How can I send my order to a different address?',
      'I moved, how do I change where my order goes?',
      'Is it possible to correct the address after ordering?',
      'My address on the order is wrong, what do I do?',
      'change delivery address',
      'Can I edit the shipping address of an order I placed?',
    ],
  ],
  [
    'split-shipment',
    'shipping',
    'Items from different warehouses may arrive in more than one package; you pay shipping only once.',
    'more than one package',
    [
      'Why did I only get part of my order?',
      'My order came in several boxes, is that normal?',
      'Why are my items arriving separately?',
      'Only some of my items arrived, where is the rest?',
      'Do you ship items in separate packages?',
      'I received one box but ordered three things, why?',
      'Why was my order split into multiple shipments?',
      'order arrived in pieces',
      'Will everything I bought come together?',
    ],
  ],
  // ---- orders ----
  [
    'track-order',
    'orders',
    'When your order ships we email you a tracking number; you can also follow it in My Orders.',
    'tracking number',
    [
      'How can I track my order?',
      'Where is my package?',
      'How do I find out where my order is?',
      'Can I get a tracking number?',
      'How do I check the status of my delivery?',
      'Is there a way to follow my shipment?',
      'I want to see where my parcel is right now, how?',
      'track my order',
      'Where can I see the shipping status of my purchase?',
    ],
  ],
  [
    'cancel-order',
    'orders',
    `You can cancel an order within ${F.cancelWindow} of placing it, from My Orders. After that, return it when it arrives.`,
    F.cancelWindow,
    [
      'How do I cancel my order?',
      'Can I cancel an order I just placed?',
      'I changed my mind, can I cancel?',
      'Is it too late to cancel my purchase?',
      'How long do I have to cancel an order?',
      'I ordered by mistake, how do I cancel it?',
      "I don't want my order anymore, can you stop it?",
      'cancel order',
      'What is the time limit for cancelling an order?',
    ],
  ],
  [
    'modify-order',
    'orders',
    'Items cannot be added to an order once it is placed; place a second order instead.',
    'second order',
    [
      'Can I add an item to my order?',
      'How do I change the items in my order?',
      'I forgot something, can I add it to my existing order?',
      'Can I modify my order after placing it?',
      'Is it possible to add more products to an order?',
      'Can you put another item in the order I already made?',
      'I want to change what I ordered, how?',
      'add item to existing order',
      'Can I edit the contents of my order?',
    ],
  ],
  [
    'order-confirmation',
    'orders',
    'We send a confirmation email within a few minutes of your order. Check your spam folder, or find the order in My Orders.',
    'spam',
    [
      "I didn't get an order confirmation email.",
      'Where is my order confirmation?',
      'I have not received a confirmation for my purchase.',
      'Did my order go through? I got no email.',
      "Why haven't I received a confirmation email?",
      'No confirmation email arrived after I ordered, what now?',
      'How do I know my order was placed?',
      'missing confirmation email',
      'I never got an email confirming my order.',
    ],
  ],
  [
    'late-package',
    'orders',
    `If your package has not arrived ${F.lateDays} after the expected date, contact us and we will send a replacement or refund you.`,
    F.lateDays,
    [
      'My package is late, what should I do?',
      'My order has not arrived yet.',
      'My delivery is overdue.',
      'What if my package never arrives?',
      'The expected delivery date passed and I have nothing.',
      'My parcel still has not shown up, can you help?',
      'It has been days past the delivery date and no package.',
      'order never arrived',
      'What happens if my order is lost in the mail?',
    ],
  ],
  [
    'damaged-item',
    'orders',
    `Report a damaged item within ${F.damagedWindow} of delivery with a photo, and we will send a free replacement.`,
    F.damagedWindow,
    [
      'My item arrived damaged.',
      'What do I do if my order is broken?',
      'The product I received is cracked.',
      'My package came damaged, can I get a replacement?',
      'Something in my order was broken in shipping.',
      'The lamp I got is dented, what now?',
      'I opened the box and the item was smashed.',
      'received broken item',
      'How do I report a damaged product?',
    ],
  ],
  [
    'wrong-item',
    'orders',
    'If you received the wrong item, contact us: we ship the right one and send a free return label for the other.',
    'right one',
    [
      'I received the wrong item.',
      'You sent me something I did not order.',
      'The product in the box is not what I bought.',
      'My order has the wrong color in it.',
      "I got someone else's item, what do I do?",
      'The package contained a different product than I ordered.',
      'This is not the item I purchased.',
      'wrong product delivered',
      'You shipped me the wrong size, can you fix it?',
    ],
  ],
  [
    'invoice',
    'orders',
    'You can download an invoice for any order from My Orders: open the order and click Download invoice.',
    'Download invoice',
    [
      'How do I get an invoice?',
      'Can I have a receipt for my order?',
      'Where can I download my invoice?',
      'I need an invoice for my company.',
      'How can I get a copy of my receipt?',
      'Is there a PDF invoice for my purchase?',
      'I need proof of purchase, where do I find it?',
      'download receipt',
      'Can you send me the invoice for my order?',
    ],
  ],
  [
    'back-in-stock',
    'orders',
    'Click Notify me on the product page and we will email you when it is back in stock.',
    'Notify me',
    [
      'An item is sold out, when will it be back?',
      'How do I know when a product is back in stock?',
      'The thing I want is out of stock.',
      'Can you tell me when an item is available again?',
      'Will you restock this product?',
      'Can I get an alert when a sold out item returns?',
      'The product page says unavailable, what can I do?',
      'out of stock notification',
      'Is there a way to be notified about restocks?',
    ],
  ],
  [
    'order-minimum',
    'orders',
    'There is no minimum order amount; you can order a single item.',
    'no minimum',
    [
      'Is there a minimum order?',
      'Do I have to spend a certain amount to order?',
      'What is the smallest order I can place?',
      'Can I order just one item?',
      'Is there a minimum purchase amount?',
      'Must my order be over some amount?',
      'Can I buy only a single thing?',
      'minimum order value',
      'Do you require a minimum spend?',
    ],
  ],
  [
    'bulk-order',
    'orders',
    `For orders of more than ${F.bulkUnits}, write to ${F.businessEmail} for a quote.`,
    F.businessEmail,
    [
      'Do you offer bulk discounts?',
      'Can I place a large order for my business?',
      'I want to buy in bulk, who do I contact?',
      'Do you do wholesale?',
      'How do I order many units for my company?',
      'Is there a price for corporate orders?',
      'We need fifty candles for an event, can you help?',
      'bulk order contact',
      'Who handles business purchases?',
    ],
  ],
  // ---- returns ----
  [
    'return-window',
    'returns',
    `You can return most items within ${F.returnWindow} of delivery for a full refund.`,
    F.returnWindow,
    [
      'What is your return policy?',
      'How long do I have to return an item?',
      'Can I return something I bought?',
      'How many days do I have to send it back?',
      'What is the deadline for returns?',
      'Is there a time limit on returns?',
      'Until when can I return my purchase?',
      'return policy days',
      'Do you accept returns, and for how long?',
    ],
  ],
  [
    'return-how',
    'returns',
    'Start a return in My Orders: choose Return items and print the free return label.',
    'Return items',
    [
      'How do I return an item?',
      'How can I start a return?',
      'What are the steps to send something back?',
      'Where do I request a return?',
      'How do I get a return label?',
      'Walk me through making a return.',
      'What do I need to do to return my order?',
      'start return',
      'How do I ship a product back to you?',
    ],
  ],
  [
    'return-cost',
    'returns',
    'Returns are free: we provide a prepaid return label.',
    'prepaid return label',
    [
      'Do I have to pay for return shipping?',
      'Are returns free?',
      'How much does it cost to return something?',
      'Who pays for shipping a return?',
      'Is there a fee to return an item?',
      'Will I be charged for sending my order back?',
      'Does a return cost me anything?',
      'return shipping fee',
      'Do you charge for returns?',
    ],
  ],
  [
    'refund-time',
    'returns',
    `Refunds go back to your original payment method ${F.refundDays} after we receive the return.`,
    F.refundDays,
    [
      'When will I get my refund?',
      'How long does a refund take?',
      'I returned my item, where is my money?',
      'How many days until I am refunded?',
      'When does the refund show up on my card?',
      'How quickly do you process refunds?',
      'My return was delivered, how soon is the refund?',
      'refund processing time',
      'How long until I see my money back?',
    ],
  ],
  [
    'exchange',
    'returns',
    `Exchanges are free within ${F.returnWindow}: choose Exchange in My Orders and pick the new size or color.`,
    'Exchange',
    [
      'Can I exchange an item?',
      'How do I swap for a different size?',
      'Can I change the color of something I bought?',
      'I want a different size, can I exchange it?',
      'Do you do exchanges?',
      'Is it possible to trade my item for another color?',
      'The size is wrong, can I get it replaced with another size?',
      'exchange for another size',
      'How do exchanges work?',
    ],
  ],
  [
    'clearance-return',
    'returns',
    `Clearance items can be returned within ${F.returnWindow} for store credit only.`,
    'store credit',
    [
      'Can I return clearance items?',
      'Are sale items returnable?',
      'What is the return policy for discounted products?',
      'I bought something on clearance, can I send it back?',
      'Do clearance purchases get a refund?',
      'Is a final sale item refundable?',
      'Can marked down items be returned for money?',
      'return sale item',
      'What happens if I return a clearance product?',
    ],
  ],
  [
    'opened-return',
    'returns',
    'Opened items can be returned if they are unused and in their original packaging.',
    'original packaging',
    [
      'Can I return an item I opened?',
      'Do I need the original box to return something?',
      'I took it out of the package, can I still return it?',
      'Can opened products be returned?',
      'Does the item have to be unopened for a return?',
      'I unboxed it but never used it, is a return okay?',
      'What condition must a returned item be in?',
      'return opened item',
      'Can I send back something without its packaging?',
    ],
  ],
  [
    'warranty',
    'returns',
    `Every product has a ${F.warranty} against defects; contact us with your order number and a photo.`,
    F.warranty,
    [
      'Do your products have a warranty?',
      'What is the warranty on your items?',
      'My lamp stopped working after a few months.',
      'Is there a guarantee on your products?',
      'How long is the warranty?',
      'Something I bought broke after normal use, is it covered?',
      'What does the product guarantee cover?',
      'warranty period',
      'Are defects covered by a warranty?',
    ],
  ],
  [
    'no-receipt',
    'returns',
    'You do not need a receipt to return an item; we find the purchase from your order number or email address.',
    'order number',
    [
      'Can I return something without a receipt?',
      'I lost my receipt, can I still return it?',
      'Do I need a receipt for a return?',
      'I threw away the receipt, is a return possible?',
      'Is proof of purchase required for returns?',
      'No receipt, can I still get a refund?',
      'Can I make a return if I do not have the receipt?',
      'return without receipt',
      'My receipt is gone, what do I need to return it?',
    ],
  ],
  // ---- payments ----
  [
    'payment-methods',
    'payments',
    'We accept Visa, Mastercard, American Express, PayPal, Apple Pay and Brightleaf gift cards.',
    'PayPal',
    [
      'What payment methods do you accept?',
      'How can I pay?',
      'Which credit cards do you take?',
      'Can I pay with PayPal?',
      'What forms of payment are accepted?',
      'Do you take Apple Pay or American Express?',
      'Which ways of paying are there?',
      'payment options',
      'What cards can I use at checkout?',
    ],
  ],
  [
    'cash-on-delivery',
    'payments',
    'We do not offer cash on delivery; every order is paid online at checkout.',
    'paid online',
    [
      'Can I pay cash on delivery?',
      'Do you offer cash on delivery?',
      'Can I pay when the package arrives?',
      'Is paying in cash possible?',
      'Can I pay the courier at my door?',
      'Do you accept cash payments?',
      'Is there a pay on delivery option?',
      'cash on delivery',
      'Can I pay for my order when I receive it?',
    ],
  ],
  [
    'installments',
    'payments',
    `With Klarna you can pay in ${F.klarnaPayments} on orders over ${F.klarnaMinimum}.`,
    'Klarna',
    [
      'Can I pay in installments?',
      'Do you offer buy now pay later?',
      'Can I split my payment?',
      'Is there a payment plan?',
      'Can I pay over time?',
      'Do you have Klarna or something like it?',
      'Can I spread the cost over several payments?',
      'pay in installments',
      'Is financing available for my order?',
    ],
  ],
  [
    'when-charged',
    'payments',
    'We authorize your card when you order and charge it when the order ships.',
    'when the order ships',
    [
      'When is my card charged?',
      'Do you charge me right away?',
      'When will the payment be taken?',
      'Is my card billed at checkout or later?',
      'When do you take the money for my order?',
      'Why has the charge not appeared on my card yet?',
      'At what point do I actually pay?',
      'when am i charged',
      'Does the charge happen when I order?',
    ],
  ],
  [
    'double-charge',
    'payments',
    `A second charge is usually a temporary authorization that disappears within ${F.lateDays}.`,
    'temporary authorization',
    [
      'I was charged twice.',
      'Why do I see two charges on my card?',
      'There is a duplicate payment on my statement.',
      'You billed me twice for one order.',
      'My bank shows the same charge two times.',
      'Why was my card charged more than once?',
      'I see a double payment for my purchase.',
      'charged twice',
      'Can you explain the extra charge on my card?',
    ],
  ],
  [
    'currency',
    'payments',
    'All prices are in US dollars (USD).',
    'US dollars',
    [
      'What currency are your prices in?',
      'Are prices in US dollars?',
      'Which currency do you charge in?',
      'Can I pay in euros?',
      'What currency will I be billed in?',
      'Are your prices shown in dollars?',
      'Do you charge in my local currency?',
      'price currency',
      'Is the price in USD?',
    ],
  ],
  [
    'sales-tax',
    'payments',
    'Sales tax is calculated at checkout from the delivery address.',
    'calculated at checkout',
    [
      'Do you charge sales tax?',
      'How is tax calculated?',
      'Are taxes included in the price?',
      'Will I pay tax on my order?',
      'How much tax will be added?',
      'Is the listed price before tax?',
      'When do I see the tax on my order?',
      'sales tax',
      'Do prices include tax?',
    ],
  ],
  [
    'payment-declined',
    'payments',
    'If your payment is declined, check the billing address and card details, or try another payment method.',
    'billing address',
    [
      'My payment was declined.',
      'Why did my card get rejected?',
      'The checkout says payment failed.',
      'My credit card is not working on your site.',
      "Why won't my payment go through?",
      'I keep getting a card declined error.',
      'The payment did not work, what should I check?',
      'card declined',
      'Checkout refuses my card, what can I do?',
    ],
  ],
  [
    'promo-code',
    'payments',
    'Enter the code in the Promo code box at checkout; its discount shows before you pay.',
    'Promo code box',
    [
      'How do I use a promo code?',
      'Where do I enter a discount code?',
      'How do I apply a coupon?',
      'Where does the voucher code go?',
      'How can I redeem a promotional code?',
      'I have a discount code, where do I put it?',
      'Where is the field for a coupon code?',
      'apply promo code',
      'How do I get my discount code to work?',
    ],
  ],
  [
    'promo-stack',
    'payments',
    'Only one promo code can be used per order.',
    'one promo code',
    [
      'Can I use two promo codes?',
      'Can I combine discount codes?',
      'Is it possible to stack coupons?',
      'Can I apply more than one code to my order?',
      'Do multiple promo codes work together?',
      'I have two coupons, can I use both?',
      'How many discount codes per order?',
      'combine coupons',
      'Can promotions be stacked?',
    ],
  ],
  [
    'price-match',
    'payments',
    `If an item you bought drops in price within ${F.priceMatchDays} of your purchase, we refund the difference.`,
    F.priceMatchDays,
    [
      'Do you offer price adjustments?',
      'The price went down after I bought it, can I get the difference?',
      'Do you price match?',
      'An item I ordered is now on sale, can I get a refund of the difference?',
      'What if the price drops after my purchase?',
      "I paid more than today's price, can you refund the gap?",
      'Is there price protection on orders?',
      'price drop refund',
      'Can I get money back if something goes on sale later?',
    ],
  ],
  [
    'gift-cards',
    'payments',
    `Gift cards come in amounts from ${F.giftCardRange} and never expire.`,
    F.giftCardRange,
    [
      'Do you sell gift cards?',
      'What amounts do gift cards come in?',
      'Do your gift cards expire?',
      'Can I buy a gift card for a friend?',
      'How much can I put on a gift card?',
      'What values are available for gift cards?',
      'Is there an expiry date on gift cards?',
      'gift card amounts',
      'I want to give a gift card, what are the options?',
    ],
  ],
  [
    'gift-card-balance',
    'payments',
    'Check your gift card balance on the Gift Cards page by entering the card number.',
    'Gift Cards page',
    [
      'How do I check my gift card balance?',
      'How much is left on my gift card?',
      'Where can I see my gift card balance?',
      'Can I find out the remaining value of a gift card?',
      'How do I know what my gift card is worth now?',
      'Is there a way to look up a gift card balance?',
      'What is the balance of my gift card?',
      'gift card balance',
      'How can I see how much money is on my gift card?',
    ],
  ],
  // ---- accounts ----
  [
    'create-account',
    'account',
    'Click Sign up at the top of any page and enter your email address and a password.',
    'Sign up',
    [
      'How do I create an account?',
      'How can I register?',
      'I want to open an account.',
      'Where do I sign up?',
      'How do I make a new account?',
      'What do I need to register on your site?',
      'Can you help me set up an account?',
      'create account',
      'How do I become a registered customer?',
    ],
  ],
  [
    'reset-password',
    'account',
    `Click Forgot password on the sign-in page; we email you a reset link that is valid for ${F.resetLinkValid}.`,
    'Forgot password',
    [
      'I forgot my password.',
      'How do I reset my password?',
      "I can't remember my password.",
      'How can I change my password?',
      "My password doesn't work, what do I do?",
      'I need a new password for my account.',
      'How do I recover my password?',
      'reset password',
      'Help, I lost my password.',
    ],
  ],
  [
    'change-email',
    'account',
    'Go to Account Settings, then Profile, to change your email address.',
    'Profile',
    [
      'How do I change my email address?',
      'Can I update the email on my account?',
      'I have a new email, how do I change it?',
      'Where do I edit my email address?',
      'How can I use a different email for my account?',
      'My email on file is old, how do I update it?',
      'Can I switch my account to another email?',
      'change email',
      'How do I modify my account email?',
    ],
  ],
  [
    'delete-account',
    'account',
    `Email ${F.privacyEmail} to delete your account; we erase your data within ${F.deleteWithin}.`,
    F.privacyEmail,
    [
      'How do I delete my account?',
      'I want to close my account.',
      'Can you remove my account and data?',
      'How can I deactivate my account?',
      'Please delete my personal data.',
      'How do I permanently close my account?',
      'I no longer want an account with you, how do I remove it?',
      'delete account',
      'How can I get my account erased?',
    ],
  ],
  [
    'two-factor',
    'account',
    'Turn on two-factor authentication in Account Settings, under Security.',
    'Security',
    [
      'How do I turn on two-factor authentication?',
      'Do you support 2FA?',
      'How can I make my account more secure?',
      'Can I add a verification code to my login?',
      'Where do I enable two-step verification?',
      'How do I protect my account better?',
      'Is there an option for two-factor login?',
      'enable 2fa',
      'Can I set up extra security for signing in?',
    ],
  ],
  [
    'guest-checkout',
    'account',
    'Yes, you can check out as a guest without creating an account.',
    'guest',
    [
      'Can I order without an account?',
      'Do I need an account to buy something?',
      'Is guest checkout available?',
      'Can I check out without registering?',
      'Do I have to sign up to place an order?',
      'Can I buy without making an account?',
      'Is creating an account required to shop?',
      'guest checkout',
      'Can I purchase as a guest?',
    ],
  ],
  [
    'order-history',
    'account',
    'Sign in and open My Orders to see every order you have placed.',
    'My Orders',
    [
      'Where can I see my past orders?',
      'How do I view my order history?',
      'Can I see what I ordered before?',
      'Where is the list of my previous purchases?',
      'How do I find an old order?',
      'Where can I look up orders from last year?',
      'Is there a page with all my orders?',
      'order history',
      'How do I see everything I have bought?',
    ],
  ],
  [
    'unsubscribe',
    'account',
    'Click Unsubscribe at the bottom of any of our emails, or change your email preferences in Account Settings.',
    'Unsubscribe',
    [
      'How do I stop getting your emails?',
      'How can I unsubscribe from the newsletter?',
      'You send me too many emails.',
      'I want to opt out of marketing emails.',
      'How do I stop promotional emails?',
      'Can I stop receiving your mailing list?',
      'Please remove me from your email list.',
      'unsubscribe emails',
      'How do I turn off your marketing messages?',
    ],
  ],
  [
    'locked-account',
    'account',
    `After ${F.lockAttempts} your account is locked for ${F.lockTime}; resetting your password unlocks it right away.`,
    F.lockTime,
    [
      'My account is locked.',
      "I can't sign in, it says my account is locked.",
      'Why am I locked out of my account?',
      'How long is my account blocked after wrong passwords?',
      'I entered the wrong password too many times.',
      'My login is blocked, what happened?',
      'How do I unlock my account?',
      'account locked',
      'It says too many attempts, when can I try again?',
    ],
  ],
  [
    'saved-cards',
    'account',
    'Add or remove saved cards in Account Settings, under Payment methods.',
    'Payment methods',
    [
      'How do I remove a saved card?',
      'How can I update my saved credit card?',
      'Where do I add a new card to my account?',
      'Can I delete my stored payment details?',
      'How do I change the card on my account?',
      'My card expired, how do I replace it in my account?',
      'Where are my saved cards managed?',
      'remove saved card',
      'How do I edit the payment cards stored in my profile?',
    ],
  ],
  [
    'wishlist',
    'account',
    'Click the heart on a product page to save it to your Wishlist; you need to be signed in.',
    'Wishlist',
    [
      'How do I save items for later?',
      'Do you have a wishlist?',
      'How can I keep track of products I like?',
      'Where can I save things I want to buy later?',
      'How do I add something to my wishlist?',
      'Can I bookmark products on your site?',
      'Is there a way to save a favorite item?',
      'wishlist',
      'How do I make a list of items I want?',
    ],
  ],
  // ---- the shop ----
  [
    'contact',
    'shop',
    `Call us at ${F.phone}, email ${F.email}, or use live chat on our website.`,
    F.phone,
    [
      'How can I contact customer service?',
      'What is your phone number?',
      'How do I reach a person?',
      'Can I talk to someone on the phone?',
      'What is your support email address?',
      'How do I get in touch with you?',
      'I need to speak to an agent, how?',
      'customer service phone',
      'What is the best way to contact your team?',
    ],
  ],
  [
    'support-hours',
    'shop',
    `Our support team is available ${F.weekdayHours} and ${F.saturdayHours}, Eastern time.`,
    '8 am to 8 pm',
    [
      'What are your customer service hours?',
      'When is support open?',
      'What time can I call you?',
      'Are you open on Saturdays?',
      'When are your agents available?',
      'Until what time is customer support available?',
      'What days and hours is your help line open?',
      'support hours',
      'When can I reach customer service?',
    ],
  ],
  [
    'physical-stores',
    'shop',
    `${F.shop} is an online-only shop; we have no physical stores.`,
    'online-only',
    [
      'Do you have a physical store?',
      'Where is your shop located?',
      'Can I visit one of your stores?',
      'Is there a store near me?',
      'Do you have any retail locations?',
      'Can I see the products in person somewhere?',
      'Where can I shop in person?',
      'store locations',
      'Do you have a showroom?',
    ],
  ],
  [
    'rewards',
    'shop',
    `Leaf Rewards is free to join: you earn ${F.rewardsEarn}, and ${F.rewardsRedeem} give ${F.rewardsValue}.`,
    F.rewardsRedeem,
    [
      'Do you have a loyalty program?',
      'How do reward points work?',
      'How do I earn points?',
      'What is Leaf Rewards?',
      'How much are my points worth?',
      'Do I get anything back for shopping with you often?',
      'How can I use my reward points?',
      'loyalty points',
      'Tell me about your rewards program.',
    ],
  ],
  [
    'student-discount',
    'shop',
    `Students get ${F.studentDiscount} off with a verified student email address.`,
    F.studentDiscount,
    [
      'Do you have a student discount?',
      'I am a student, do I get a discount?',
      'Is there a discount for students?',
      'How much is the student discount?',
      'Do college students get money off?',
      'Can I get a reduced price as a university student?',
      'What do students get off?',
      'student discount',
      'How do I get the student deal?',
    ],
  ],
  [
    'newsletter',
    'shop',
    `Sign up for our newsletter and get ${F.newsletterDiscount} off your first order.`,
    F.newsletterDiscount,
    [
      'Do you have a discount for new customers?',
      'Is there a first order discount?',
      'What do I get for signing up to the newsletter?',
      'Do you offer a welcome discount?',
      'How can I save on my first purchase?',
      'Any deals for someone ordering for the first time?',
      'Is there a coupon for new subscribers?',
      'first order discount',
      'What is the newsletter sign-up offer?',
    ],
  ],
  [
    'gift-wrap',
    'shop',
    `Gift wrapping is available at checkout for ${F.giftWrap}, with a free gift message.`,
    F.giftWrap,
    [
      'Do you offer gift wrapping?',
      'Can you wrap my order as a gift?',
      'How much is gift wrap?',
      'Can I add a gift message?',
      'Is gift wrapping available?',
      'I am sending a present, can it be wrapped?',
      'What does it cost to have an item wrapped?',
      'gift wrap price',
      'Can my order be packed as a present?',
    ],
  ],
  [
    'packaging',
    'shop',
    'All our packaging is recyclable and plastic-free.',
    'recyclable',
    [
      'Is your packaging recyclable?',
      'Do you use plastic in your packaging?',
      'Is your packaging eco-friendly?',
      'What are your boxes made of?',
      'Are you environmentally friendly with shipping materials?',
      'Can I recycle the box my order came in?',
      'Is the packing material sustainable?',
      'plastic free packaging',
      'How green is your packaging?',
    ],
  ],
  // ---- products ----
  [
    'price-duvet',
    'products',
    `The linen duvet cover costs ${F.duvetPrice} and comes in twin, queen and king sizes.`,
    F.duvetPrice,
    [
      'How much is the linen duvet cover?',
      'What does the duvet cover cost?',
      'What is the price of the linen duvet?',
      'How expensive is your duvet cover?',
      'Duvet cover price?',
      'I am looking at the linen duvet cover, what does it cost?',
      'How much do you charge for a duvet cover?',
      'price of duvet cover',
      'Can you tell me the cost of the linen duvet cover?',
    ],
  ],
  [
    'price-mugs',
    'products',
    `The set of four ceramic mugs costs ${F.mugsPrice}.`,
    F.mugsPrice,
    [
      'How much are the ceramic mugs?',
      'What is the price of the mug set?',
      'How much does the set of mugs cost?',
      'What do your coffee mugs cost?',
      'Mug set price?',
      'How expensive are the ceramic mugs?',
      'What would four of your mugs cost me?',
      'price of mugs',
      'Can you tell me the cost of the mug set?',
    ],
  ],
  [
    'price-throw',
    'products',
    `The wool throw blanket costs ${F.throwPrice}.`,
    F.throwPrice,
    [
      'How much is the wool throw?',
      'What does the throw blanket cost?',
      'What is the price of the wool blanket?',
      'How expensive is the throw blanket?',
      'Wool throw price?',
      'I like the wool throw, how much is it?',
      'What do you charge for the blanket?',
      'price of throw blanket',
      'Can you tell me the cost of the wool throw?',
    ],
  ],
  [
    'price-board',
    'products',
    `The bamboo cutting board costs ${F.boardPrice}.`,
    F.boardPrice,
    [
      'How much is the bamboo cutting board?',
      'What does the cutting board cost?',
      'What is the price of the chopping board?',
      'How expensive is the bamboo board?',
      'Cutting board price?',
      'I want the bamboo cutting board, what is its price?',
      'How much do you sell the chopping board for?',
      'price of cutting board',
      'Can you tell me the cost of the bamboo board?',
    ],
  ],
  [
    'price-candle',
    'products',
    `Our scented soy candles cost ${F.candlePrice} each.`,
    F.candlePrice,
    [
      'How much are your candles?',
      'What does a scented candle cost?',
      'What is the price of the soy candles?',
      'How expensive is one candle?',
      'Candle price?',
      'I want to buy a scented candle, how much is one?',
      'What do the soy candles sell for?',
      'price of candles',
      'Can you tell me the cost of a candle?',
    ],
  ],
  [
    'price-towels',
    'products',
    `The cotton bath towel set costs ${F.towelsPrice}.`,
    F.towelsPrice,
    [
      'How much is the towel set?',
      'What do the bath towels cost?',
      'What is the price of the cotton towels?',
      'How expensive is the bath towel set?',
      'Towel set price?',
      'I need new towels, how much is your set?',
      'What do you charge for the cotton bath towels?',
      'price of towels',
      'Can you tell me the cost of the towel set?',
    ],
  ],
  [
    'price-lamp',
    'products',
    `The brass table lamp costs ${F.lampPrice}.`,
    F.lampPrice,
    [
      'How much is the brass lamp?',
      'What does the table lamp cost?',
      'What is the price of the brass table lamp?',
      'How expensive is your lamp?',
      'Table lamp price?',
      'I saw the brass lamp, what is it priced at?',
      'How much do you want for the table lamp?',
      'price of lamp',
      'Can you tell me the cost of the brass lamp?',
    ],
  ],
  [
    'price-rug',
    'products',
    `The jute area rug costs ${F.rugPrice}.`,
    F.rugPrice,
    [
      'How much is the jute rug?',
      'What does the area rug cost?',
      'What is the price of the jute area rug?',
      'How expensive is the rug?',
      'Rug price?',
      'I like the jute rug, how much does it go for?',
      'What do you charge for the area rug?',
      'price of rug',
      'Can you tell me the cost of the jute rug?',
    ],
  ],
  [
    'linen-care',
    'products',
    'Machine wash the linen duvet cover cold on a gentle cycle and tumble dry low.',
    'cold',
    [
      'How do I wash the linen duvet cover?',
      'What are the care instructions for the duvet cover?',
      'Can I put the linen cover in the washing machine?',
      'How should I clean the linen bedding?',
      'What temperature should I wash the duvet cover at?',
      'Any tips for laundering the linen cover?',
      'Is the duvet cover machine washable?',
      'linen care instructions',
      'How do I take care of the linen duvet?',
    ],
  ],
  [
    'mugs-dishwasher',
    'products',
    'Yes, the ceramic mugs are dishwasher safe and microwave safe.',
    'dishwasher safe',
    [
      'Are the mugs dishwasher safe?',
      'Can the ceramic mugs go in the microwave?',
      'Can I put the mugs in the dishwasher?',
      'Are your mugs microwave safe?',
      'How do I clean the ceramic mugs?',
      'Will the dishwasher damage the mugs?',
      'Is it okay to heat drinks in the mugs in a microwave?',
      'mugs dishwasher',
      'Can the mug set be machine washed?',
    ],
  ],
];

/**
 * More training phrasings of each intent: short ones, in the words customers also use for the same
 * thing (a model trained from scratch knows only the words of its data, so the training set must
 * cover the shop's vocabulary; the held-out questions then test new sentences over it).
 */
/** @type {Record<string, string[]>} */
const EXTRA = {
  'shipping-options': ['shipping options', 'How can my order be delivered?', 'What are the delivery speeds and prices?', 'Is there standard and express shipping?'],
  'standard-shipping': ['standard delivery time', 'How long does regular delivery take?', 'Normal shipping, how many days?', 'When does a normal order get to me?'],
  'free-shipping': ['free shipping', 'Do I pay for shipping on a big order?', 'Is delivery free above some amount?', 'Can shipping be free if I spend more?'],
  'express-shipping': ['express delivery', 'I need my order fast, how much extra?', 'Is there next day or faster shipping?', 'How quick is express?'],
  'international-shipping': ['international shipping', 'Do you send orders overseas?', 'Can you ship to Europe?', 'Do you deliver abroad to other countries?'],
  'same-day-dispatch': [
    'dispatch time',
    'When do you ship an order I place today?',
    'What time do I need to order for same day dispatch?',
    'How fast does my order leave the warehouse?',
  ],
  'po-box': ['post office box', 'Can I ship to a PO box address?', 'Do PO boxes work for delivery?', 'Deliver to my P.O. box?'],
  'weekend-delivery': ['Saturday delivery', 'Do couriers deliver on Sunday?', 'Is delivery possible on the weekend?', 'Which days does the courier deliver?'],
  'change-address': ['wrong address', 'How do I fix the address on my order?', 'Can I change where my package is delivered?', 'I need to correct my delivery address.'],
  'split-shipment': ['split shipment', 'Why did my items come in separate packages?', 'Part of my order is missing, it came in two boxes.', 'Why did I get multiple packages?'],
  'track-order': ['tracking', 'Where is my order right now?', 'How do I track my parcel?', 'Can I follow my package?'],
  'cancel-order': ['cancel my order', 'How do I stop an order I placed?', 'Can I still cancel my purchase?', 'Is there a time limit to cancel?'],
  'modify-order': ['change my order', 'Can I add something to an order I placed?', 'How do I change what is in my order?', 'Can I put more items in my order?'],
  'order-confirmation': ['no confirmation email', 'I did not receive an order confirmation.', 'Did my order go through?', 'Where is the confirmation email for my purchase?'],
  'late-package': ['package not arrived', 'My order is late.', 'My parcel has not been delivered yet.', 'The delivery date passed and my package is missing.'],
  'damaged-item': ['damaged item', 'My order arrived broken.', 'The item I received is damaged or smashed.', 'Something in the box was cracked.'],
  'wrong-item': ['wrong item', 'I got a different item than I ordered.', 'The wrong product was in my package.', 'You sent the wrong size or color.'],
  invoice: ['invoice', 'Where is the receipt for my order?', 'Can I download an invoice as a PDF?', 'I need proof of purchase for my order.'],
  'back-in-stock': ['sold out', 'When will this be back in stock?', 'Can I get notified when an item is available?', 'The product is out of stock, will you restock it?'],
  'order-minimum': ['minimum order', 'Is there a minimum amount to order?', 'Can I buy just one thing?', 'Do I need to spend a minimum?'],
  'bulk-order': ['wholesale', 'Can I order in bulk?', 'Do you sell to businesses in large quantities?', 'Who do I contact for a big corporate order?'],
  'return-window': ['return policy', 'How long can I return things?', 'How many days do I have for a return?', 'Can I send back an item I bought?'],
  'return-how': ['how to return', 'How do I send an item back?', 'Where do I start a return?', 'How do I get the return label?'],
  'return-cost': ['free returns', 'Is return shipping free?', 'Do returns cost anything?', 'Who pays the return shipping?'],
  'refund-time': ['refund time', 'How long until I get my money back?', 'When is my refund paid?', 'How many days does the refund take?'],
  exchange: ['exchange', 'Can I exchange for another size?', 'Can I swap an item for a different color?', 'How do I exchange a product?'],
  'clearance-return': ['clearance returns', 'Can I return a sale item?', 'Are discounted items refundable?', 'What about returns of clearance products?'],
  'opened-return': ['opened item return', 'Can I return something I already opened?', 'Do I need the original packaging for a return?', 'Is an unboxed item returnable?'],
  warranty: ['warranty', 'Is there a guarantee on products?', 'My item stopped working, is it covered?', 'How long is your product warranty?'],
  'no-receipt': ['no receipt', 'Can I return without a receipt?', 'I lost the receipt, can I still return the item?', 'Do I need proof of purchase to return?'],
  'payment-methods': ['payment methods', 'Do you take Visa or Mastercard?', 'Which payment options are there?', 'Can I pay with a credit card or PayPal?'],
  'cash-on-delivery': ['pay on delivery', 'Can I pay cash when the order arrives?', 'Do you take cash?', 'Is cash on delivery an option?'],
  installments: ['buy now pay later', 'Can I pay in several parts?', 'Do you offer Klarna?', 'Can I split the cost into payments?'],
  'when-charged': ['charge timing', 'When do you charge my card?', 'Is my card charged when I order or when it ships?', 'When is the money taken from my account?'],
  'double-charge': ['double charge', 'I see two charges for one order.', 'Why was I billed twice?', 'There is an extra charge on my card.'],
  currency: ['currency', 'Are prices in dollars?', 'Which currency do you use?', 'Do you charge in USD?'],
  'sales-tax': ['tax', 'Is tax included in your prices?', 'Do I pay sales tax?', 'How much tax is charged on an order?'],
  'payment-declined': ['payment declined', 'My card was declined.', 'Why did my payment fail?', 'My card is not accepted at checkout.'],
  'promo-code': ['use a coupon', 'Where do I type my promo code?', 'How do I apply my discount code at checkout?', 'Where do I enter a voucher?'],
  'promo-stack': ['two coupons', 'Can I use more than one promo code?', 'Can I stack discount codes?', 'Can two coupons be combined on one order?'],
  'price-match': ['price match', 'The price dropped after I bought it.', 'Can I get the difference if an item goes on sale?', 'Do you refund the difference when prices go down?'],
  'gift-cards': ['gift cards', 'Can I buy a gift card?', 'Do gift cards expire?', 'What gift card amounts do you have?'],
  'gift-card-balance': ['gift card value left', 'How do I see the balance of a gift card?', 'How much money is left on my gift card?', 'Where do I check what is left on a gift card?'],
  'create-account': ['sign up', 'How do I register an account?', 'How can I create a new account?', 'Where do I open an account?'],
  'reset-password': ['forgot password', 'I forgot my login password.', 'How do I get a new password?', 'My password is not working.'],
  'change-email': ['change my email', 'How do I update my email address?', 'Can I use a new email for my account?', 'Where do I change the email on my profile?'],
  'delete-account': ['delete my account', 'How do I close my account?', 'Please remove my account and my data.', 'Can I erase my account?'],
  'two-factor': ['two-factor authentication', 'How do I enable 2FA?', 'Can I add two-step verification to my account?', 'How do I make my account more secure?'],
  'guest-checkout': ['order as a guest', 'Can I buy without an account?', 'Do I need to register to order?', 'Can I check out as a guest?'],
  'order-history': ['past orders', 'Where can I see my previous orders?', 'How do I find my order history?', 'Where is the list of orders I placed?'],
  unsubscribe: ['unsubscribe', 'How do I stop your marketing emails?', 'Can I opt out of your emails?', 'Please stop sending me newsletters.'],
  'locked-account': ['locked out', 'My account got locked after wrong passwords.', 'How can I get back into my locked account?', 'Why is my account blocked?'],
  'saved-cards': ['saved cards', 'How do I delete a card saved in my account?', 'Where do I update my stored card?', 'Can I add or remove payment cards in my account?'],
  wishlist: ['save for later', 'How do I add items to a wishlist?', 'Can I save products I like?', 'Where is my list of favorite items?'],
  contact: ['contact', 'How do I talk to customer service?', 'What is your email or phone?', 'Can I call someone?'],
  'support-hours': ['opening hours', 'When is customer service open?', 'What are your support hours?', 'Is support open on the weekend?'],
  'physical-stores': ['physical store', 'Do you have a shop I can visit?', 'Is there a store location near me?', 'Can I shop in a real store?'],
  rewards: ['rewards program', 'How do I earn and use points?', 'Do you have loyalty points?', 'What are Leaf Rewards points worth?'],
  'student-discount': ['student deal', 'Do students get a discount?', 'Is there a student offer?', 'How much off do students get?'],
  newsletter: ['newsletter discount', 'Is there a discount on my first order?', 'What do new customers get?', 'Do I get a coupon for joining the newsletter?'],
  'gift-wrap': ['gift wrap', 'Can you gift wrap my order?', 'How much does gift wrapping cost?', 'Can I wrap a present and add a message?'],
  packaging: ['packaging', 'Is your packaging plastic free?', 'Can I recycle your packaging?', 'Is your packaging sustainable?'],
  'price-duvet': ['duvet cover', 'How much for the linen duvet?', 'Price of your duvet cover?', 'What does a linen duvet cover cost?'],
  'price-mugs': ['mugs', 'How much for the mug set?', 'Price of your ceramic mugs?', 'What do the mugs cost?'],
  'price-throw': ['throw blanket', 'How much for the wool blanket?', 'Price of your throw?', 'What does the wool throw blanket cost?'],
  'price-board': ['cutting board', 'How much for the bamboo board?', 'Price of your chopping board?', 'What does the bamboo cutting board cost?'],
  'price-candle': ['candles', 'How much for a soy candle?', 'Price of your scented candles?', 'What does one candle cost?'],
  'price-towels': ['towels', 'How much for the bath towels?', 'Price of your towel set?', 'What does the cotton towel set cost?'],
  'price-lamp': ['table lamp', 'How much for the brass lamp?', 'Price of your table lamp?', 'What does the lamp cost?'],
  'price-rug': ['area rug', 'How much for the jute rug?', 'Price of your area rug?', 'What does the rug cost?'],
  'linen-care': ['wash linen', 'How do I wash the duvet cover?', 'Care instructions for linen bedding?', 'Can the linen duvet go in the washer?'],
  'mugs-dishwasher': ['dishwasher safe', 'Can I wash the mugs in the dishwasher?', 'Are the mugs safe in the microwave?', 'Can the ceramic mugs be microwaved?'],
};

/**
 * Groups of interchangeable words and phrases of the shop's domain, for augmenting the training
 * questions (EDA's synonym replacement, Wei & Zou 2019): a model trained from scratch knows no word
 * it has not seen, so each training question is also asked with some of its words swapped for
 * others of their group. General shop vocabulary, not taken from the held-out questions.
 */
export const SYNONYMS = [
  ['shipping', 'delivery', 'shipment'],
  ['ship', 'send', 'deliver', 'dispatch'],
  ['shipped', 'sent', 'delivered', 'dispatched'],
  ['package', 'parcel', 'box'],
  ['item', 'product', 'thing'],
  ['items', 'products', 'things'],
  ['buy', 'purchase'],
  ['bought', 'purchased', 'ordered'],
  ['cost', 'price', 'charge', 'fee'],
  ['how much is', 'what is the price of', 'what do you charge for'],
  ['how much does', 'what does'],
  ['fast', 'quick', 'soon'],
  ['change', 'update', 'edit', 'modify'],
  ['get', 'receive'],
  ['got', 'received'],
  ['broken', 'damaged', 'cracked'],
  ['late', 'delayed', 'overdue'],
  ['refund', 'money back', 'reimbursement'],
  ['send back', 'return', 'give back'],
  ['cancel', 'call off', 'stop'],
  ['email', 'e-mail', 'mail'],
  ['discount', 'deal', 'reduction'],
  ['promo code', 'discount code', 'coupon', 'voucher'],
  ['account', 'profile', 'login'],
  ['sign in', 'log in', 'login'],
  ['sign up', 'register', 'join'],
  ['help', 'assist', 'support'],
  ['store', 'shop', 'outlet'],
  ['stores', 'shops', 'branches'],
  ['contact', 'reach', 'talk to'],
  ['phone', 'telephone', 'call'],
  ['agent', 'person', 'human', 'someone'],
  ['blanket', 'throw'],
  ['rug', 'carpet'],
  ['mugs', 'cups'],
  ['lamp', 'light'],
  ['wash', 'clean', 'launder'],
  ['card', 'credit card', 'debit card'],
  ['charged', 'billed'],
  ['pay', 'settle'],
  ['expensive', 'pricey', 'costly'],
  ['i want', 'i would like', "i'd like", 'i need'],
  ['can i', 'could i', 'may i', 'is it possible to'],
  ['do you', 'does your shop', "do y'all"],
  ['what is', "what's"],
  ['how do i', 'how can i', 'what do i do to'],
  ['where do i', 'where can i'],
  ['is there', 'do you have'],
  ['present', 'gift'],
  ['mistake', 'error'],
  ['problem', 'issue', 'trouble'],
  ['quickly', 'fast', 'soon'],
  ['old', 'previous', 'past'],
  ['new', 'different', 'another'],
];

/** Words a customer adds around a question, for the augmentation. */
const OPENERS = ['hi, ', 'hello, ', 'hey, ', 'quick question: ', 'excuse me, ', 'good morning, '];
const CLOSERS = [' please', ' thanks', ' thank you', '?', ' asap'];

/** A small seeded generator (mulberry32), so the augmentation is the same on every run. */
/** @param {number} seed */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** @param {string} s */
const hash = (s) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);
/** @param {string} s */
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `n` variants of a question (EDA): each swaps up to two words or phrases for others of their
 * SYNONYMS group, may drop one short word (random deletion), may be lowercased without its final
 * punctuation, and may get an opener or a closer. Deterministic: seeded by the question.
 */
export function augmentQuestion(/** @type {string} */ q, /** @type {number} */ n) {
  const r = rng(hash(q));
  /** @type {<T>(a: T[]) => T} */
  const pick = (a) => a[Math.floor(r() * a.length)];
  const out = new Set();
  for (let tries = 0; out.size < n && tries < n * 10; tries++) {
    let v = q;
    let swaps = 0;
    for (const group of SYNONYMS) {
      if (swaps >= 2) break;
      for (const w of group) {
        const re = new RegExp(`\\b${escapeRegExp(w)}\\b`, 'i');
        if (re.test(v) && r() < 0.6) {
          const other = pick(group.filter((x) => x !== w));
          v = v.replace(re, (/** @type {string} */ m) => (m[0] === m[0].toUpperCase() && m[0] !== m[0].toLowerCase() ? other[0].toUpperCase() + other.slice(1) : other));
          swaps++;
          break;
        }
      }
    }
    const words = v.split(' ');
    if (words.length > 4 && r() < 0.3) {
      const i = 1 + Math.floor(r() * (words.length - 2));
      if (words[i].length <= 4) words.splice(i, 1);
      v = words.join(' ');
    }
    if (r() < 0.35) v = v.toLowerCase().replace(/[?.!]$/, '');
    if (r() < 0.25) v = pick(OPENERS) + v[0].toLowerCase() + v.slice(1);
    else if (r() < 0.2) v = v.replace(/[?.!]$/, '') + pick(CLOSERS);
    if (v !== q) out.add(v);
  }
  return [...out];
}

/** Variants of each training question in train-augmented.jsonl. */
export const AUGMENT_PER_QUESTION = 4;

/** How the nine phrasings of each intent are used. */
export const SPLIT = { train: 5, heldout: 2, feedback: 2 };

/**
 * The dataset as objects: every intent with its answer, expected fact and questions, and the three
 * lists of examples in chat form.
 */
export function buildDataset() {
  const intents = INTENTS.map(([id, topic, answer, expect, questions]) => {
    if (questions.length !== SPLIT.train + SPLIT.heldout + SPLIT.feedback) throw new Error(`intent ${id}: ${questions.length} questions, expected 9`);
    return {
      id,
      topic,
      answer,
      expect,
      train: [...questions.slice(0, SPLIT.train), ...(EXTRA[id] ?? []), ...(MORE[id] ?? [])],
      heldout: questions.slice(SPLIT.train, SPLIT.train + SPLIT.heldout),
      feedback: questions.slice(SPLIT.train + SPLIT.heldout),
    };
  });
  /** @typedef {(typeof intents)[number]} Intent */
  const pair = (/** @type {Intent} */ i, /** @type {string} */ q) => ({
    messages: [
      { role: 'user', content: q },
      { role: 'assistant', content: i.answer },
    ],
  });
  const check = (/** @type {Intent} */ i, /** @type {string} */ q) => ({ ...pair(i, q), intent: i.id, expect: i.expect });
  const heldOut = new Set(intents.flatMap((i) => [...i.heldout, ...i.feedback]).map(normalize));
  for (const i of intents) {
    const seen = i.train.find((q) => heldOut.has(normalize(q)));
    if (seen) throw new Error(`intent ${i.id}: the training question ${JSON.stringify(seen)} is also a held-out or feedback question`);
  }
  return {
    intents,
    train: intents.flatMap((i) => i.train.map((q) => ({ ...pair(i, q), intent: i.id }))),
    // a variant that happens to equal a held-out or feedback question is left out
    augmented: intents.flatMap((i) =>
      i.train.flatMap((q) => augmentQuestion(q, AUGMENT_PER_QUESTION).filter((v) => !heldOut.has(normalize(v)))).map((q) => ({ ...pair(i, q), intent: i.id, augmented: true })),
    ),
    heldout: intents.flatMap((i) => i.heldout.map((q) => check(i, q))),
    feedback: intents.flatMap((i) => i.feedback.map((q) => check(i, q))),
  };
}

/**
 * Text for pre-training a base model on the shop's language: the handbook (every answer, grouped by
 * topic) and the training conversations in the layout of nabla's default chat template (the
 * held-out and feedback questions are not in it).
 */
export function corpusText(ds = buildDataset()) {
  const topics = [...new Set(ds.intents.map((i) => i.topic))];
  const handbook = topics.map(
    (t) =>
      `${F.shop} customer handbook: ${t}\n\n${ds.intents
        .filter((i) => i.topic === t)
        .map((i) => i.answer)
        .join('\n')}\n`,
  );
  const chats = ds.train.map((e) => `User: ${e.messages[0].content}\nAssistant: ${e.messages[1].content}<|endoftext|>\n`);
  return `${handbook.join('\n')}\n${chats.join('\n')}`;
}

/** A question in the form duplicates are compared in: lowercase, single spaces, no final punctuation. */
export const normalize = (/** @type {string} */ q) =>
  q
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[?.!]+$/, '')
    .trim();

const jsonl = (/** @type {object[]} */ rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Write the files into `out`; returns their counts. */
export function writeDataset(/** @type {string} */ out) {
  const ds = buildDataset();
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'train.jsonl'), jsonl(ds.train));
  writeFileSync(join(out, 'train-augmented.jsonl'), jsonl([...ds.train, ...ds.augmented]));
  writeFileSync(join(out, 'heldout.jsonl'), jsonl(ds.heldout));
  writeFileSync(join(out, 'feedback.jsonl'), jsonl(ds.feedback));
  writeFileSync(join(out, 'corpus.txt'), corpusText(ds));
  return { intents: ds.intents.length, train: ds.train.length, augmented: ds.augmented.length, heldout: ds.heldout.length, feedback: ds.feedback.length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? process.argv[i + 1] : 'runs/cs/data';
  if (!out) throw new Error('--out needs a directory');
  const n = writeDataset(out);
  console.log(`${n.intents} intents: ${n.train} training pairs (+${n.augmented} augmented), ${n.heldout} held-out and ${n.feedback} feedback questions, written to ${resolve(out)}`);
}
