"""Placeholder text ("Lorem ipsum dolor sit amet ..."): the pseudo-Latin that page templates and
their generators fill empty slots with. Its words come from one short list (Cicero's passage as
the lipsum generators cut it, and the list the Faker library draws from); real Latin prose uses
many other words, so a run of words almost all from the list is filler, not Latin."""
from __future__ import annotations

import re

LOREM_WORDS = frozenset("""
a ab accusamus accusantium ad adipisci adipiscing aenean aliqua aliquam aliquet aliquid aliquip alias amet
anim animi ante aperiam architecto arcu asperiores aspernatur assumenda at atque auctor augue aut aute autem
beatae bibendum blanditiis cillum commodi commodo condimentum congue consectetur consequat consequatur
consequuntur convallis corporis corrupti cras culpa cum cumque cupidatat cupiditate curabitur dapibus debitis
delectus deleniti deserunt diam dicta dictum dignissim dignissimos distinctio do dolor dolore dolorem
doloremque dolores doloribus dolorum donec dui duis ducimus ea eaque earum efficitur egestas eget eiusmod eius
eleifend elementum eligendi elit enim eos erat error esse est et etiam eu euismod eum eveniet ex excepteur
excepturi exercitation exercitationem expedita explicabo facere facilis faucibus felis fermentum feugiat
finibus fringilla fuga fugiat fugit fusce gravida harum hendrerit hic iaculis id illo illum impedit in
incididunt incidunt integer interdum inventore ipsa ipsam ipsum irure iste itaque iure iusto justo labore
laboriosam laboris laborum lacinia lacus laoreet laudantium lectus leo libero ligula lobortis lorem luctus
maecenas magna magnam magni maiores malesuada massa mattis mauris maxime metus mi minim minima minus modi
molestiae molestias molestie mollit mollitia morbi nam natus nec necessitatibus neque nemo nesciunt nibh
nihil nisi nisl nobis non nostrud nostrum nulla nullam numquam nunc obcaecati occaecat odio odit officia
officiis omnis optio orci ornare pariatur pellentesque perferendis perspiciatis pharetra phasellus placeat
porro porta porttitor possimus posuere praesentium pretium proident proin provident pulvinar purus quae
quaerat quam quas quasi qui quia quibusdam quidem quis quisquam quisque quo quod quos ratione recusandae
reiciendis rem repellat repellendus reprehenderit repudiandae rerum risus rutrum saepe sagittis sapien
sapiente scelerisque sed sem semper sequi similique sint sit sodales soluta sollicitudin sunt suscipit
suspendisse tellus tempor tempora tempore temporibus tempus tenetur tincidunt tortor totam tristique turpis
ullam ullamco ultrices ultricies unde urna ut varius vehicula vel velit veniam veritatis vero vestibulum
vitae vivamus viverra voluptas voluptate voluptatem voluptates voluptatibus voluptatum vulputate
""".split())

_WORD = re.compile(r"[^\W\d_]+")


def is_placeholder(text: str, min_words: int = 6, share: float = 0.9) -> bool:
    """At least ``min_words`` words, and at least ``share`` of them from the placeholder list."""
    if "psum" not in text and "olor" not in text and "olupt" not in text:
        return False                     # every generator's text has one of these (most text has none)
    words = _WORD.findall(text.lower())
    if len(words) < min_words:
        return False
    return sum(w in LOREM_WORDS for w in words) >= share * len(words)
