"""Word lists and page furniture per language for the sample's generated pages.

Function words come first in each list and are drawn more often, as in real prose, so that
generated sentences have the word statistics language identification and quality rules expect.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    function_words: tuple[str, ...]
    content_words: tuple[str, ...]
    nav: tuple[str, ...]  # navigation labels: home, news, sport, culture, contact, about
    related: str
    cookie_notice: str
    rights: str
    spaced: bool = True  # False for scripts written without spaces between words
    full_stop: str = "."


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


LANGUAGES = {
    "en": Language(
        "en",
        _words("the of and to in a is that for it with as was on be by this are from at have an they which "
               "or has had not their but were been one all there would so will can more about"),
        _words("city council report water energy school students market village river family history "
               "research project garden weather winter summer festival music library museum railway "
               "bridge harbour farmers coffee kitchen recipe bread season hospital doctors patients "
               "mountain forest community volunteers budget election policy transport bicycle station "
               "morning evening decision plan building street neighbours children teacher lesson "
               "village hall concert theatre painting exhibition island coast lighthouse fishermen"),
        ("Home", "News", "Sport", "Culture", "Contact", "About us"),
        "Related articles",
        "We use cookies to improve your experience. By continuing you accept our cookie policy.",
        "All rights reserved.",
    ),
    "de": Language(
        "de",
        _words("der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es "
               "an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über"),
        _words("Stadt Gemeinde Bericht Wasser Energie Schule Schüler Markt Dorf Fluss Familie Geschichte "
               "Forschung Projekt Garten Wetter Winter Sommer Fest Musik Bibliothek Museum Bahnhof "
               "Brücke Hafen Bauern Kaffee Küche Rezept Brot Jahreszeit Krankenhaus Ärzte Straße "
               "Berg Wald Verein Haushalt Wahl Verkehr Fahrrad Morgen Abend Entscheidung Plan Gebäude "
               "Nachbarn Kinder Lehrerin Unterricht Konzert Theater Ausstellung Insel Küste Größe"),
        ("Startseite", "Nachrichten", "Sport", "Kultur", "Kontakt", "Über uns"),
        "Weitere Artikel",
        "Wir verwenden Cookies, um Ihr Erlebnis zu verbessern. Mehr dazu in unserer Datenschutzerklärung.",
        "Alle Rechte vorbehalten.",
    ),
    "fr": Language(
        "fr",
        _words("de la le et les des en un du une que est pour qui dans par plus pas au sur ne se il sont "
               "avec ce elle ou comme mais nous leur été aux cette ses"),
        _words("ville conseil rapport eau énergie école élèves marché village rivière famille histoire "
               "recherche projet jardin météo hiver été fête musique bibliothèque musée gare pont port "
               "agriculteurs café cuisine recette pain saison hôpital médecins patients montagne forêt "
               "association budget élection politique transport vélo matin soirée décision bâtiment "
               "rue voisins enfants enseignante leçon concert théâtre peinture exposition île côte phare"),
        ("Accueil", "Actualités", "Sport", "Culture", "Contact", "Qui sommes-nous"),
        "Articles similaires",
        "Nous utilisons des cookies pour améliorer votre expérience. En savoir plus sur notre politique.",
        "Tous droits réservés.",
    ),
    "es": Language(
        "es",
        _words("de la que el en y a los del se las por un para con no una su al lo como más pero sus le "
               "ya o este fue ha sí porque esta entre cuando muy sin sobre"),
        _words("ciudad ayuntamiento informe agua energía escuela alumnos mercado pueblo río familia "
               "historia investigación proyecto jardín tiempo invierno verano fiesta música biblioteca "
               "museo estación puente puerto agricultores café cocina receta pan temporada hospital "
               "médicos pacientes montaña bosque vecinos presupuesto elecciones política transporte "
               "bicicleta mañana tarde decisión edificio calle niños maestra clase concierto teatro "
               "pintura exposición isla costa faro pescadores"),
        ("Inicio", "Noticias", "Deportes", "Cultura", "Contacto", "Quiénes somos"),
        "Artículos relacionados",
        "Utilizamos cookies para mejorar su experiencia. Consulte nuestra política de privacidad.",
        "Todos los derechos reservados.",
    ),
    "ru": Language(
        "ru",
        _words("и в не на что с по как это он из к у за от о так для же все она было но мы ты же его "
               "бы то уже вы да только её мне"),
        _words("город совет доклад вода энергия школа ученики рынок деревня река семья история "
               "исследование проект сад погода зима лето праздник музыка библиотека музей вокзал мост "
               "порт фермеры кофе кухня рецепт хлеб сезон больница врачи пациенты гора лес жители "
               "бюджет выборы транспорт велосипед утро вечер решение здание улица соседи дети учитель "
               "урок концерт театр картина выставка остров берег маяк рыбаки"),
        ("Главная", "Новости", "Спорт", "Культура", "Контакты", "О нас"),
        "Читайте также",
        "Мы используем файлы cookie, чтобы сайт работал лучше. Подробнее в политике конфиденциальности.",
        "Все права защищены.",
    ),
    "zh": Language(
        "zh",
        _words("的 了 在 是 我们 和 有 这 也 就 都 对 从 与 为 一个 他们 以及 已经 可以"),
        _words("城市 委员会 报告 水资源 能源 学校 学生 市场 村庄 河流 家庭 历史 研究 项目 花园 天气 冬天 "
               "夏天 节日 音乐 图书馆 博物馆 车站 桥梁 港口 农民 咖啡 厨房 食谱 面包 季节 医院 医生 病人 "
               "山区 森林 社区 志愿者 预算 选举 政策 交通 自行车 早上 晚上 决定 计划 建筑 街道 邻居 孩子 "
               "老师 课程 音乐会 剧院 绘画 展览 岛屿 海岸 灯塔 渔民"),
        ("首页", "新闻", "体育", "文化", "联系我们", "关于我们"),
        "相关文章",
        "本网站使用Cookie以改善您的体验。继续浏览即表示您同意我们的隐私政策。",
        "版权所有。",
        spaced=False,
        full_stop="。",
    ),
    "ja": Language(
        "ja",
        _words("の に は を た が で て と し れ さ ある いる も する から な こと として"),
        _words("町 議会 報告 水 エネルギー 学校 生徒 市場 村 川 家族 歴史 研究 計画 庭 天気 冬 夏 祭り 音楽 "
               "図書館 博物館 駅 橋 港 農家 コーヒー 台所 料理 パン 季節 病院 医師 患者 山 森 地域 予算 "
               "選挙 政策 交通 自転車 朝 夜 決定 建物 通り 近所 子供 先生 授業 コンサート 劇場 絵画 展示 "
               "島 海岸 灯台 漁師"),
        ("ホーム", "ニュース", "スポーツ", "文化", "お問い合わせ", "会社概要"),
        "関連記事",
        "当サイトではクッキーを使用しています。詳しくはプライバシーポリシーをご覧ください。",
        "無断転載を禁じます。",
        spaced=False,
        full_stop="。",
    ),
}

# (language, charset the page is encoded in, where the charset is declared)
# where: "header" = HTTP Content-Type, "meta" = <meta charset> only, "none" = nowhere (sniffed).
PAGE_ENCODINGS = (
    ("en", "utf-8", "header"),
    ("en", "utf-8", "none"),
    ("de", "iso-8859-1", "header"),
    ("de", "utf-8", "meta"),
    ("fr", "windows-1252", "meta"),
    ("es", "utf-8", "none"),
    ("ru", "windows-1251", "meta"),
    ("ru", "koi8-r", "header"),
    ("zh", "gbk", "meta"),
    ("zh", "gb2312", "header"),
    ("ja", "shift_jis", "meta"),
)
# Relative frequency of each row above.
PAGE_ENCODING_WEIGHTS = (30, 8, 8, 6, 8, 8, 6, 3, 6, 3, 4)

TLDS = {"en": ("com", "org", "co.uk", "net"), "de": ("de", "at", "ch"), "fr": ("fr", "be"),
        "es": ("es", "com.mx", "cl"), "ru": ("ru", "by"), "zh": ("cn", "com.cn"), "ja": ("jp", "co.jp")}
SITE_STEMS = ("daily", "courier", "herald", "gazette", "observer", "tribune", "post", "journal", "times",
              "review", "chronicle", "ledger", "monitor", "weekly", "echo", "record", "digest", "bulletin")
