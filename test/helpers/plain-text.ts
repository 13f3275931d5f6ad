/** Plain text in four scripts, written for these tests (no third-party text). */
export const PLAIN_TEXT: Record<string, string> = {
  English:
    'The river was low that summer, and the children walked along the dry stones every morning.\n' +
    'Their grandmother said the water would come back in autumn, as it always had. "Wait," she told them, ' +
    '"and do not build your bridges where the current will want to go."\n\nBy September the rain returned.',
  Russian:
    'Летом река сильно обмелела, и каждое утро дети гуляли по сухим камням.\n' +
    'Бабушка говорила, что вода вернётся осенью, как возвращалась всегда. «Подождите, — сказала она, — ' +
    'и не стройте мосты там, где захочет пройти течение».\n\nВ сентябре снова пошли дожди.',
  Chinese:
    '那年夏天河水很浅，孩子们每天早上都沿着干燥的石头散步。\n' +
    '祖母说，河水会在秋天回来，就像以往一样。“等一等，”她对他们说，“不要在水流想去的地方建桥。”\n\n到了九月，雨又下起来了。',
  Hebrew:
    'באותו קיץ הנהר היה נמוך, והילדים הלכו בכל בוקר לאורך האבנים היבשות.\n' +
    'סבתא אמרה שהמים יחזרו בסתיו, כמו תמיד. "חכו," אמרה להם, "ואל תבנו גשרים במקום שהזרם ירצה לעבור."\n\nבספטמבר חזר הגשם.',
};
