"""Short citizen messages in Danish and English, written for this benchmark (not training
data): questions, requests for a person, SMS-style replies, one-word answers."""

DANISH = [
    "hvornår bliver min pension udbetalt", "hej", "jeg vil tale med en person", "hvor er min ansøgning",
    "tak", "hvornår får jeg penge", "jeg har mistet mit job", "kan jeg få boligstøtte",
    "min adresse er ændret", "jeg forstår det ikke", "hjælp", "ja tak", "nej tak",
    "hvad er status på min sag", "jeg skal sende et dokument", "børnepenge",
    "hvornår kommer folkepensionen", "jeg er flyttet", "kan i ringe mig op", "farvel",
    "godmorgen jeg har et spørgsmål om min boligstøtte", "hvorfor har jeg ikke fået min udbetaling",
    "jeg vil gerne søge om barselsdagpenge", "send mig et link", "snak med en medarbejder",
    "hvordan søger jeg om førtidspension", "er der nogen der kan hjælpe mig", "min mor er død hvad gør jeg",
    "jeg har fået et brev fra jer", "hvorfor er min pension lavere denne måned", "kan jeg få hjælp til husleje",
    "jeg har ikke mitid", "hvordan uploader jeg et dokument", "har i modtaget min ansøgning",
    "jeg skal flytte til sverige", "hvad skal jeg gøre", "det virker ikke", "jeg vil klage",
    "må jeg tale med et menneske", "hvornår åbner i", "tusind tak for hjælpen", "hvad er jeres telefonnummer",
    "jeg er blevet gift", "vi har fået en baby", "jeg er syg og kan ikke arbejde", "hvor meget får jeg i pension",
    "min udbetaling er forsinket", "jeg har brug for hjælp", "kan du gentage det", "hvad betyder det",
]
ENGLISH = [
    "when will my pension be paid", "hi", "I want to talk to a person", "where is my application",
    "thanks", "when do I get money", "I lost my job", "can I get housing benefit",
    "my address changed", "I don't understand", "help", "yes please", "no thanks",
    "what is the status of my case", "I need to send a document", "child benefit",
    "when is my payment", "I moved", "can you call me", "bye",
    "good morning I have a question about my housing benefit", "why haven't I received my payment",
    "I would like to apply for maternity benefit", "send me a link", "talk to an agent",
    "how do I apply for disability pension", "is there anyone who can help me", "my mother died what do I do",
    "I got a letter from you", "why is my pension lower this month", "can I get help with rent",
    "I don't have a digital ID", "how do I upload a document", "did you receive my application",
    "I am moving to Sweden", "what should I do", "it doesn't work", "I want to complain",
    "can I speak to a human", "when do you open", "thank you so much for your help", "what is your phone number",
    "I got married", "we had a baby", "I am sick and cannot work", "how much pension will I get",
    "my payment is late", "I need help", "can you repeat that", "what does that mean",
]
