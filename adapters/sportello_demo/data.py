"""Names, subjects and message texts of the demo shop, Bottega Rossi.

Plain data for the simulation (:mod:`sportello_demo.stories`, :mod:`sportello_demo.people`,
:mod:`sportello_demo.scale`). Every e-mail domain is an example domain and every
phone number is fictitious (Italian mobiles in a ``555`` block, British ones in
Ofcom's drama range ``07700 900xxx``). Texts may hold the placeholders
``{order}``, ``{item}``, ``{size}`` and ``{first}``; nothing else in braces.
"""

from __future__ import annotations

from dataclasses import dataclass

SHOP_NAME = "Bottega Rossi"

LANGUAGES = ("it", "en")
ITALIAN_SHARE = 0.75  # of customers


@dataclass(frozen=True, slots=True)
class Topic:
    """One reason to write to the shop, in one language."""

    subject: str
    openings: tuple[str, ...]  # the customer's first message
    more: tuple[str, ...]  # a second message before anyone answered
    replies: tuple[str, ...]  # the shop's answer
    followups: tuple[str, ...]  # the customer again, after the answer


FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "it": (
        "Maria",
        "Luca",
        "Giulia",
        "Marco",
        "Francesca",
        "Alessandro",
        "Chiara",
        "Giovanni",
        "Sara",
        "Matteo",
        "Elena",
        "Davide",
        "Federica",
        "Lorenzo",
        "Valentina",
        "Andrea",
        "Martina",
        "Simone",
        "Anna",
        "Paolo",
        "Silvia",
        "Stefano",
        "Laura",
        "Roberto",
        "Alessia",
        "Nicolò",
        "Beatrice",
        "Riccardo",
        "Ilaria",
        "Tommaso",
    ),
    "en": (
        "John",
        "Emma",
        "Oliver",
        "Amelia",
        "George",
        "Olivia",
        "Harry",
        "Sophie",
        "Jack",
        "Isla",
        "James",
        "Emily",
        "William",
        "Grace",
        "Thomas",
        "Charlotte",
    ),
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "it": (
        "Rossi",
        "Bianchi",
        "Esposito",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
        "Bruno",
        "Gallo",
        "Conti",
        "De Luca",
        "Mancini",
        "Costa",
        "Giordano",
        "Rizzo",
        "Lombardi",
        "Moretti",
        "Barbieri",
        "Fontana",
        "Santoro",
        "Mariani",
        "Rinaldi",
        "Caruso",
        "Ferrara",
        "Galli",
        "Martini",
        "Leone",
        "Longo",
        "D'Angelo",
    ),
    "en": (
        "Smith",
        "Clark",
        "Jones",
        "Taylor",
        "Brown",
        "Wilson",
        "Evans",
        "Walker",
        "Wright",
        "Hughes",
        "Green",
        "Hall",
        "Wood",
        "Turner",
        "Baker",
    ),
}

EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "it": ("example.it", "esempio.it", "example.com"),
    "en": ("example.com", "example.org", "example.net"),
}

ITEMS: dict[str, tuple[str, ...]] = {
    "it": (
        "la giacca in pelle",
        "la borsa a tracolla",
        "il maglione di lana",
        "la sciarpa di seta",
        "la camicia di lino",
        "il giubbotto di jeans",
        "il portafoglio",
        "la cintura marrone",
        "il cappotto blu",
        "il vestito a fiori",
    ),
    "en": (
        "leather jacket",
        "shoulder bag",
        "wool jumper",
        "silk scarf",
        "linen shirt",
        "denim jacket",
        "wallet",
        "brown belt",
        "navy coat",
        "floral dress",
    ),
}

SIZES = ("XS", "S", "M", "L", "XL")

TOPICS: dict[str, tuple[Topic, ...]] = {
    "it": (
        Topic(
            "Ordine non arrivato",
            (
                "Ho fatto l'ordine {order} dieci giorni fa e non è ancora arrivato nulla. "
                "Potete controllare?",
                "Il mio ordine {order} risulta spedito da una settimana ma il corriere non "
                "si è visto. Dove si trova?",
            ),
            (
                "Aggiungo che il tracking non si aggiorna da tre giorni.",
                "Se serve, il numero d'ordine è {order}.",
            ),
            (
                "Abbiamo sentito il corriere: il pacco {order} è in consegna, dovrebbe "
                "arrivare entro domani.",
                "Il pacco risulta fermo al deposito di Bologna: abbiamo sollecitato il corriere.",
            ),
            (
                "Ancora niente, oggi non è passato nessuno. Potete ricontrollare?",
                "Il tracking dice consegnato ma io non ho ricevuto niente!",
            ),
        ),
        Topic(
            "Fattura errata",
            (
                "Nella fattura dell'ordine {order} manca la partita IVA della mia ditta. "
                "Potete riemetterla?",
                "La fattura che mi avete mandato ha l'indirizzo sbagliato, me la correggete?",
            ),
            ("L'indirizzo giusto è via Garibaldi 12, Bologna.",),
            (
                "Ci scusiamo per l'errore: le mandiamo la fattura corretta entro oggi.",
                "Abbiamo corretto i dati, trova la nuova fattura in allegato.",
            ),
            (
                "Grazie, però adesso manca il codice destinatario.",
                "Non vedo nessun allegato, me la rimandate?",
            ),
        ),
        Topic(
            "Reso di un articolo",
            (
                "Vorrei restituire un articolo dell'ordine {order}: come devo fare?",
                "{item} non mi sta bene, posso fare il reso?",
            ),
            ("È ancora con il cartellino, mai usato.",),
            (
                "Certo, ha 30 giorni per il reso: le mandiamo l'etichetta prepagata.",
                "Nessun problema: può riportarlo in negozio oppure spedirlo con l'etichetta "
                "che le inviamo.",
            ),
            (
                "Ho spedito il pacco ieri, quando arriva il rimborso?",
                "L'etichetta non si apre, me la rimandate?",
            ),
        ),
        Topic(
            "Disponibilità taglia {size}?",
            (
                "Buongiorno, avete ancora {item} in taglia {size}? Online risulta esaurita.",
                "Vorrei sapere se torna disponibile {item} in taglia {size}.",
            ),
            ("Mi andrebbe bene anche di un altro colore.",),
            (
                "La taglia {size} torna disponibile la settimana prossima, possiamo "
                "tenergliela da parte.",
                "In negozio ne abbiamo ancora una in taglia {size}: gliela teniamo fino a sabato?",
            ),
            ("Perfetto, me la tenete? Passo sabato mattina.", "Si può spedire invece?"),
        ),
        Topic(
            "Taglia sbagliata",
            (
                "Ho ordinato la {size} ma mi è arrivata un'altra taglia. Ordine {order}.",
                "Nel pacco c'era {item} nella taglia sbagliata, come facciamo?",
            ),
            ("Vi mando la foto dell'etichetta.",),
            (
                "Ci scusiamo! Le spediamo subito la taglia giusta e il corriere ritira "
                "quella sbagliata.",
            ),
            ("Il corriere non è passato a ritirare, la porto io in negozio?",),
        ),
        Topic(
            "Articolo danneggiato",
            (
                "L'ordine {order} è arrivato con la scatola schiacciata e {item} ha una macchia.",
                "{item} ha una cucitura scucita già alla consegna. Vi mando le foto?",
            ),
            ("Ecco le foto, si vede bene il difetto.",),
            ("Ci dispiace molto: le sostituiamo l'articolo senza costi.",),
            ("Quando parte la sostituzione?",),
        ),
        Topic(
            "Rimborso non ricevuto",
            (
                "Ho restituito il pacco due settimane fa ma il rimborso non è ancora arrivato.",
                "Mi avevate confermato il rimborso per l'ordine {order}, ma non vedo nulla.",
            ),
            ("Avevo pagato con PayPal.",),
            ("Il rimborso è partito ieri: lo vedrà sulla carta in 3-5 giorni lavorativi.",),
            ("Sono passati cinque giorni e ancora niente sull'estratto conto.",),
        ),
        Topic(
            "Cambio indirizzo di spedizione",
            (
                "Ho sbagliato il civico nell'ordine {order}: è il 14, non il 41. Fate in "
                "tempo a correggerlo?",
            ),
            ("Il CAP invece è giusto.",),
            ("Fatto, abbiamo corretto l'indirizzo prima della spedizione.",),
            ("Grazie! Mi mandate il codice di tracciamento?",),
        ),
        Topic(
            "Ritiro in negozio",
            ("Posso ritirare l'ordine {order} in negozio? Che orari fate il sabato?",),
            ("Abito lì vicino, così risparmio la spedizione.",),
            ("Certo, il sabato siamo aperti dalle 9 alle 13: porti il numero d'ordine.",),
            ("Può venire mia sorella a ritirarlo al posto mio?",),
        ),
        Topic(
            "Pagamento non andato a buon fine",
            (
                "Ho provato a pagare con la carta ma il sito dà errore, e l'addebito risulta "
                "lo stesso.",
            ),
            ("L'ordine era {order}.",),
            (
                "L'addebito è solo una pre-autorizzazione e la banca lo annullerà: può "
                "riprovare con PayPal.",
            ),
            ("Ho riprovato e adesso vedo due addebiti!",),
        ),
        Topic(
            "Codice sconto non funziona",
            ("Il codice BENVENUTO10 mi dice che non è valido. È già scaduto?",),
            ("Sto provando a comprare {item}.",),
            ("Il codice vale sugli articoli non in saldo; l'abbiamo applicato noi all'ordine.",),
            ("Ok, mi confermate lo sconto sulla ricevuta?",),
        ),
        Topic(
            "Confezione regalo",
            ("Si può avere la confezione regalo con un biglietto? È per un compleanno sabato.",),
            ("Il regalo è {item}.",),
            ("Sì, la confezione regalo è gratuita: scriva la dedica nelle note dell'ordine.",),
            ("Se ordino oggi arriva in tempo per sabato?",),
        ),
        Topic(
            "Annullare ordine {order}",
            ("Ho fatto un ordine per sbaglio, potete annullarlo prima che parta?",),
            ("Ho ordinato due volte la stessa cosa.",),
            ("Abbiamo annullato l'ordine {order}; il rimborso arriva sullo stesso pagamento.",),
            ("Mi è appena arrivata la mail di spedizione, è davvero annullato?",),
        ),
        Topic(
            "Spedizione in Svizzera",
            ("Spedite anche in Svizzera? Quanto costa e ci sono dazi?",),
            ("Abito a Lugano.",),
            ("Sì, spediamo in Svizzera con 15 euro; i dazi sono a carico del destinatario.",),
            ("Quanto ci mette ad arrivare più o meno?",),
        ),
    ),
    "en": (
        Topic(
            "Where is my order {order}?",
            (
                "I ordered ten days ago (order {order}) and nothing has arrived yet. "
                "Could you check?",
                "My order {order} says shipped a week ago but no courier came. Where is it?",
            ),
            ("The tracking page hasn't changed for three days.",),
            ("We checked with the courier: parcel {order} is out for delivery and due tomorrow.",),
            ("Still nothing today. Can you look again?",),
        ),
        Topic(
            "Wrong size delivered",
            (
                "I ordered size {size} but received a different one. Order {order}.",
                "The {item} in my parcel is the wrong size. What should I do?",
            ),
            ("I can send a photo of the label.",),
            (
                "Sorry about that! We are sending the right size and the courier will collect "
                "the wrong one.",
            ),
            ("The courier never came to collect it. Shall I post it back myself?",),
        ),
        Topic(
            "Return request",
            (
                "I'd like to return the {item} from order {order}. How do I do that?",
                "The {item} doesn't fit me. Can I send it back?",
            ),
            ("It still has the tags on.",),
            ("Of course: you have 30 days to return it, we'll email you a prepaid label.",),
            ("I posted it yesterday. When will I get the refund?",),
        ),
        Topic(
            "Do you ship to the UK?",
            ("Do you ship to the UK, and will I have to pay import duties?",),
            ("I'm interested in the {item}.",),
            ("Yes, we ship to the UK for 18 euros; import duties are paid on delivery.",),
            ("How long does it usually take?",),
        ),
        Topic(
            "Item arrived damaged",
            (
                "My order {order} arrived with a crushed box and the {item} is damaged.",
                "The {item} had a loose seam when it arrived. Shall I send photos?",
            ),
            ("Photos attached, you can see the damage clearly.",),
            ("We're very sorry: we will replace it at no cost.",),
            ("When will the replacement ship?",),
        ),
        Topic(
            "Is the {item} available in size {size}?",
            ("Hi, is the {item} still available in size {size}? The website says sold out.",),
            ("Another colour would be fine too.",),
            ("Size {size} is back next week; we can hold one for you.",),
            ("Great, please keep one for me.",),
        ),
        Topic(
            "Refund not received",
            ("I returned my parcel two weeks ago and still have no refund.",),
            ("I paid by card.",),
            ("The refund went out yesterday; it takes 3-5 working days to show.",),
            ("It has been five days and there is still nothing on my statement.",),
        ),
        Topic(
            "Invoice for my company",
            ("Could you issue an invoice for order {order} in my company's name?",),
            ("I'll send the VAT number if you need it.",),
            ("Of course, please send us the company name and VAT number.",),
            ("Here they are. Could you send it by Friday?",),
        ),
        Topic(
            "Discount code not working",
            ("The code WELCOME10 says it's invalid. Has it expired?",),
            ("I'm trying to buy the {item}.",),
            ("The code works on full-price items; we have applied it to your order.",),
            ("Thanks, could you confirm the discount on the receipt?",),
        ),
        Topic(
            "Change my delivery address",
            ("I typed the wrong house number on order {order}. Can you still fix it?",),
            ("It should be 14, not 41.",),
            ("Done, we corrected the address before shipping.",),
            ("Thanks! Could you send me the tracking code?",),
        ),
        Topic(
            "Can I collect in store?",
            ("I'm in Bologna next week. Can I collect order {order} in the shop?",),
            ("I'm staying nearby.",),
            ("Of course: we're open Monday to Saturday from 9, bring your order number.",),
            ("Is the shop open on Saturday afternoon?",),
        ),
    ),
}

SECOND_REPLIES: dict[str, tuple[str, ...]] = {
    "it": (
        "Ha ragione, ci scusiamo: ce ne occupiamo subito e le facciamo sapere entro oggi.",
        "Grazie della pazienza: abbiamo sistemato tutto, ci dica se serve altro.",
        "Abbiamo ricontrollato: è tutto a posto, le abbiamo mandato i dettagli.",
    ),
    "en": (
        "You're right, sorry: we're on it and will get back to you today.",
        "Thanks for your patience: it's all sorted now, let us know if you need anything else.",
    ),
}

# The customer again after the user answered or closed, when the thread has no
# topic of its own to follow up on (scale mode).
FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "it": (
        "Grazie! Un'ultima domanda: posso cambiare l'indirizzo di consegna?",
        "Scusate, non ho capito bene: devo fare qualcosa io?",
        "Ho ricontrollato e il problema c'è ancora.",
    ),
    "en": (
        "Thanks! One more question: can I change the delivery address?",
        "Sorry, I didn't quite follow: do I need to do anything?",
        "I checked again and the problem is still there.",
    ),
}

# Mentions of another channel, for a customer who wrote twice ("also on Facebook").
ALSO_WROTE: dict[str, dict[str, str]] = {
    "it": {
        "email": "Vi ho scritto anche per email ma non ho avuto risposta.",
        "chat": "Ho provato anche con la chat del sito ma nessuno risponde.",
        "phone": "Ho provato anche a chiamare ma non risponde nessuno.",
        "facebook": "Vi ho scritto anche su Facebook, senza risposta.",
        "telegram": "Vi ho scritto anche su Telegram.",
    },
    "en": {
        "email": "I also emailed you but got no answer.",
        "chat": "I tried the chat on your website too, but nobody answered.",
        "phone": "I also tried calling but nobody picked up.",
        "facebook": "I also wrote to you on Facebook, no answer.",
        "telegram": "I also sent you a message on Telegram.",
    },
}

EMAIL_OPENING: dict[str, str] = {"it": "Buongiorno,\n\n", "en": "Hello,\n\n"}
EMAIL_CLOSING: dict[str, str] = {"it": "\n\nGrazie,\n{name}", "en": "\n\nThanks,\n{name}"}
REPLY_OPENING: dict[str, str] = {"it": "Buongiorno {first},\n\n", "en": "Hello {first},\n\n"}
CHAT_OPENING: dict[str, str] = {"it": "Ciao {first}! ", "en": "Hi {first}! "}

# Who answers at the shop: (assignee id, display name).
AGENTS: tuple[tuple[str, str], ...] = (
    ("giulia", "Giulia · Bottega Rossi"),
    ("marco", "Marco · Bottega Rossi"),
    ("francesca", "Francesca · Bottega Rossi"),
)

PHONE_SUBJECT_WAITING = "Chiamata in attesa"
PHONE_SUBJECT_ANSWERED = "Chiamata risposta"
PHONE_SUBJECT_MISSED = "Chiamata persa"
PHONE_INCOMING = "Chiamata in entrata da {caller}"
PHONE_PICKED_UP = "Risposto da {agent}"
